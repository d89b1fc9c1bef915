package io.sluice.pool;

/**
 * A cheap sample of a pool's load (see {@link Pool#load()}).
 *
 * <p><b>Thread-safety:</b> immutable.
 *
 * @param leasesOut      slots in use now, draining connections included
 * @param capacity       slots the OPEN connections offer now
 * @param pending        callers waiting now
 * @param acquisitions   successful acquires so far (cumulative)
 * @param waitTotalNanos acquire wait summed over those acquires (cumulative)
 * @param maxConnections the current limit
 */
public record PoolLoad(int leasesOut, int capacity, int pending, long acquisitions, long waitTotalNanos,
        int maxConnections) {
}

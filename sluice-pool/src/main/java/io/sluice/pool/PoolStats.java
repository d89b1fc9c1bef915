package io.sluice.pool;

import java.util.Map;

/**
 * A point-in-time snapshot of a pool's accounting and counters.
 *
 * <p>At a quiescent point (no acquire or release in progress) the snapshot is exact:
 * {@code open == idle + inUse + draining} and {@code leasesOut} is the sum of the
 * entries' lease counts; {@code open + connecting <= maxConnections} always holds after
 * the pool settles from a shrink. Counters are cumulative since the pool started.
 *
 * <p><b>Thread-safety:</b> immutable.
 *
 * @param name              the pool's name (used as the metrics label)
 * @param maxConnections    current limit (after any resize)
 * @param open              connections open (OPEN or DRAINING)
 * @param connecting        connections being opened
 * @param idle              OPEN connections with no lease
 * @param inUse             OPEN connections with at least one lease
 * @param draining          connections taking no new leases, closed on their last release
 * @param leasesOut         slots in use across all connections
 * @param capacity          slots the OPEN connections offer in total right now
 * @param pending           callers waiting for a slot
 * @param created           connections opened successfully
 * @param closed            connections closed
 * @param closedByReason    connections closed, by reason
 * @param failedConnects    connect attempts that failed (each retry counts)
 * @param acquisitions      successful acquires
 * @param hits              acquires served by a connection that was already open
 * @param misses            acquires that had to wait for a connection opened for them
 * @param timeouts          acquires that gave up after connectionTimeout
 * @param exhausted         acquires refused because maxPending callers were waiting
 * @param cancelled         waiting acquires cancelled by their callers
 * @param waitP50Nanos      acquire wait, median
 * @param waitP99Nanos      acquire wait, 99th percentile
 * @param waitMaxNanos      acquire wait, maximum
 * @param waitMeanNanos     acquire wait, mean
 * @param waitTotalNanos    acquire wait, sum over all acquires (for interval means)
 * @param connectAttempts   connect attempts started (each retry counts)
 * @param connectBackoffs   pauses the pool took after a connect gave up (see {@link PoolConfig#failureBackoff()})
 */
public record PoolStats(
        String name,
        int maxConnections,
        int open,
        int connecting,
        int idle,
        int inUse,
        int draining,
        int leasesOut,
        int capacity,
        int pending,
        long created,
        long closed,
        Map<CloseReason, Long> closedByReason,
        long failedConnects,
        long acquisitions,
        long hits,
        long misses,
        long timeouts,
        long exhausted,
        long cancelled,
        long waitP50Nanos,
        long waitP99Nanos,
        long waitMaxNanos,
        double waitMeanNanos,
        long waitTotalNanos,
        long connectAttempts,
        long connectBackoffs) {

    /** Share of acquisitions served by an already open connection, 0..1 (1 when there were none). */
    public double hitRate() {
        long total = hits + misses;
        return total == 0 ? 1.0 : (double) hits / total;
    }

    /**
     * One line a person can read in a log: what is open and in use now, what waits, what the pool
     * has done and how long acquires waited. Every field stays available through the accessors.
     */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(200).append("pool '").append(name).append("': ")
                .append(open).append('/').append(maxConnections).append(" open (")
                .append(idle).append(" idle, ").append(inUse).append(" in use");
        if (draining > 0) {
            b.append(", ").append(draining).append(" draining");
        }
        if (connecting > 0) {
            b.append(", ").append(connecting).append(" connecting");
        }
        b.append("), ").append(leasesOut).append(" leases of ").append(capacity).append(" slots, ")
                .append(pending).append(" waiting; created ").append(created).append(", closed ").append(closed);
        if (failedConnects > 0) {
            b.append(", failed connects ").append(failedConnects);
        }
        b.append("; acquires ").append(acquisitions).append(" (hit rate ")
                .append(String.format(java.util.Locale.ROOT, "%.1f", hitRate() * 100)).append(" %");
        if (timeouts + exhausted + cancelled > 0) {
            b.append(", ").append(timeouts).append(" timed out, ").append(exhausted).append(" refused, ")
                    .append(cancelled).append(" cancelled");
        }
        return b.append("), wait p50 ").append(millis(waitP50Nanos)).append(" ms, p99 ").append(millis(waitP99Nanos))
                .append(" ms, max ").append(millis(waitMaxNanos)).append(" ms").toString();
    }

    private static String millis(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.3f", nanos / 1e6);
    }
}

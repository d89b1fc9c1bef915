package io.sluice.pool;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool's maintenance: every {@code housekeepingInterval} it retires broken and expired
 * connections (max lifetime, with jitter), evicts connections idle past {@code idleTimeout}
 * while more than minIdle are idle, and tops the pool up to minIdle ({@link #replenish()});
 * it also shrinks the pool to a lowered {@code maxConnections} ({@link #shrinkTo}).
 *
 * <p><b>State and owners:</b> {@link #minIdle} and {@link #paused} are volatile settings
 * written by the pool's public setters; {@link #replenishWip} is the atomic that lets one
 * top-up pass run at a time; {@link #deferred} is a volatile hint written by any thread (a
 * lost update only delays the top-up to the next run); {@link #task} is written once at start.
 *
 * <p><b>Thread-safety:</b> thread-safe; counts come from the table's census, and manager calls
 * and connects run without any lock held.
 */
final class Housekeeper<C> {

    private static final Logger LOG = LoggerFactory.getLogger(Pool.class);

    private final Pool<C> pool;
    /** Connections kept open and warm; starts at the config's, changed by {@link Pool#setMinIdle}. */
    private volatile int minIdle;
    /** While true, the minIdle top-up does not run (the health monitor pauses it for an unhealthy route). */
    private volatile boolean paused;
    /**
     * Set when a top-up stopped at maxConnecting, so that a connect that opens resumes the
     * pre-warm at once. A hint: a lost update only delays the top-up to the next run.
     */
    private volatile boolean deferred;
    /** Top-up passes asked for and not yet run; the thread that moved it from 0 runs them all. */
    private final AtomicInteger replenishWip = new AtomicInteger();
    /** The periodic run; null when periodic housekeeping is off. Written once by {@link #start}. */
    private volatile ScheduledFuture<?> task;

    Housekeeper(Pool<C> pool, int minIdle) {
        this.pool = pool;
        this.minIdle = minIdle;
    }

    void start(long everyNanos) {
        task = pool.scheduler.scheduleWithFixedDelay(this::runSafely, everyNanos, everyNanos, TimeUnit.NANOSECONDS);
    }

    void stop() {
        ScheduledFuture<?> t = task;
        if (t != null) {
            t.cancel(false);
        }
    }

    int minIdle() {
        return minIdle;
    }

    void setMinIdle(int n) {
        int old = minIdle;
        minIdle = n;
        LOG.debug("pool '{}': minIdle {} -> {}", pool.name, old, n);
        if (n > old) {
            replenish();
        }
    }

    boolean paused() {
        return paused;
    }

    void pause(boolean p) {
        boolean was = paused;
        paused = p;
        if (was && !p) {
            replenish();
        }
    }

    boolean deferred() {
        return deferred;
    }

    /** A connect gave up: a top-up it held back is not resumed by a connect opening. */
    void clearDeferred() {
        deferred = false;
    }

    /** A connect opened: the pre-warm the connect cap (or the backoff, now {@code recovered}) held back goes on. */
    void connectOpened(boolean recovered) {
        if (deferred || recovered) {
            replenish();
        }
    }

    private void runSafely() {
        try {
            run();
        } catch (RuntimeException ex) {
            LOG.error("pool '{}': housekeeping failed", pool.name, ex);
        }
    }

    /**
     * One round: retires broken and expired connections (an expired multiplexed connection
     * drains), evicts connections idle past idleTimeout (oldest first) while more than minIdle
     * are idle, and opens connections until minIdle are idle or connecting.
     */
    void run() {
        if (pool.closed) {
            return;
        }
        long now = pool.ticker.nanoTime();
        long idleNanos = pool.config.idleTimeout().toNanos();
        List<PoolEntry<C>> expiredIdle = new ArrayList<>();
        for (PoolEntry<C> e : pool.table.snapshot()) {
            long w = e.word();
            if (PoolEntry.state(w) != PoolEntry.OPEN) {
                continue;
            }
            if (pool.calls.broken(e.connection)) {
                pool.retire(e, CloseReason.BROKEN);
            } else if (now - e.deadlineNanos >= 0) {
                pool.retire(e, CloseReason.LIFETIME);
            } else if (PoolEntry.leases(w) == 0 && now - e.lastUsedNanos >= idleNanos) {
                expiredIdle.add(e); // a probe holds a lease: no idle entry is being validated
            }
        }
        int idle = pool.table.census().idle();
        for (PoolEntry<C> e : oldestFirst(expiredIdle)) {
            if (idle <= minIdle) {
                break;
            }
            if (pool.closeIfIdle(e, CloseReason.IDLE, true)) {
                idle--;
            }
        }
        replenish();
        pool.drain();
    }

    /** Sorted on a snapshot of the keys: other threads keep changing lastUsedNanos. */
    private static <C> List<PoolEntry<C>> oldestFirst(List<PoolEntry<C>> entries) {
        long[][] byAge = new long[entries.size()][2];
        for (int i = 0; i < byAge.length; i++) {
            byAge[i][0] = entries.get(i).lastUsedNanos;
            byAge[i][1] = i;
        }
        Arrays.sort(byAge, (a, b) -> Long.compare(a[0], b[0]));
        List<PoolEntry<C>> sorted = new ArrayList<>(byAge.length);
        for (long[] k : byAge) {
            sorted.add(entries.get((int) k[1]));
        }
        return sorted;
    }

    /**
     * Opens connections until minIdle are idle or on their way, within maxConnections. One pass at a time:
     * two threads counting the same missing connections (housekeeping, a resize, a connect that freed a
     * slot) would each open them. A call that finds a pass running makes that pass go round once more.
     */
    void replenish() {
        if (replenishWip.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        do {
            try {
                replenishPass();
            } catch (Throwable ex) { // never leave replenishWip raised: no top-up would ever run again
                LOG.error("pool '{}': top-up to minIdle failed", pool.name, ex);
            }
            missed = replenishWip.addAndGet(-missed);
        } while (missed != 0);
    }

    /**
     * Whether the top-up may start a connect now: not while paused, nor while backing off after
     * failed connects; once the pause has passed, one connect at a time probes the upstream.
     */
    private boolean mayReplenish() {
        if (paused) {
            return false;
        }
        ConnectBackoff backoff = pool.connector.backoff;
        if (!backoff.failing()) {
            return true;
        }
        return backoff.mayConnect(pool.ticker.nanoTime()) && pool.connector.connecting() == 0;
    }

    private void replenishPass() {
        if (pool.closed || !mayReplenish()) {
            return;
        }
        deferred = false; // a connect that completes while this runs must not start a nested top-up
        Connector<C> connector = pool.connector;
        int target = Math.min(minIdle, pool.maxConnections);
        // Free slots on multiplexed connections in use count as idle connections: with streams spread over
        // every connection none is idle, and counting only idle ones opened connections up to maxConnections.
        int idleOrComing = connector.connecting() + pool.table.census().idle() + pool.table.spareConnections();
        boolean capped = false;
        while (idleOrComing < target) {
            if (!mayReplenish()) { // a connect of this pass failed at once, or the pool is probing
                break;
            }
            if (!connector.reserveConnect()) {
                capped = connector.connecting() >= pool.config.maxConnecting();
                break;
            }
            connector.startConnect(false);
            idleOrComing++;
        }
        deferred = capped;
    }

    /** Marks surplus connections DRAINING after maxConnections shrank to {@code n}: idle ones first. */
    void shrinkTo(int n) {
        int surplus = pool.connector.liveCount() - n;
        if (surplus <= 0) {
            return;
        }
        List<PoolEntry<C>> open = new ArrayList<>();
        for (PoolEntry<C> e : pool.table.snapshot()) {
            if (e.state() == PoolEntry.OPEN) {
                open.add(e);
            }
        }
        // Idle ones first, on a snapshot of the lease counts (they change under our feet).
        long[][] byLoad = new long[open.size()][2];
        for (int i = 0; i < byLoad.length; i++) {
            byLoad[i][0] = open.get(i).leases();
            byLoad[i][1] = i;
        }
        Arrays.sort(byLoad, (a, b) -> Long.compare(a[0], b[0]));
        for (long[] k : byLoad) {
            if (surplus == 0) {
                break;
            }
            PoolEntry<C> e = open.get((int) k[1]);
            if (e.retire(CloseReason.SHRINK)) {
                surplus--;
                if (e.leases() == 0 && e.drainedToClosed()) {
                    pool.remove(e, true);
                }
            }
        }
    }
}

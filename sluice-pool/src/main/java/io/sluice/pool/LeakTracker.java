package io.sluice.pool;

import java.lang.ref.Cleaner;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Optional detection of leases that are never closed. Off by default; when on, each lease
 * records the stack that acquired it, a timer logs it if it is still held after the
 * threshold, and a {@link Cleaner} logs it and returns its slot if the lease becomes
 * garbage without having been closed (the weak-reference approach OkHttp and Jetty use).
 *
 * <p><b>Thread-safety:</b> thread-safe; {@link Record#ended} is volatile and written once.
 */
final class LeakTracker {

    private static final Logger LOG = LoggerFactory.getLogger(LeakTracker.class);
    private static final Cleaner CLEANER = Cleaner.create();

    private final String poolName;
    private final long thresholdNanos;
    private final ScheduledExecutorService scheduler;

    LeakTracker(String poolName, Duration threshold, ScheduledExecutorService scheduler) {
        this.poolName = poolName;
        this.thresholdNanos = threshold.toNanos();
        this.scheduler = scheduler;
    }

    /** State shared by a lease and its cleaner; must not reference the lease itself. */
    static final class Record {
        final Throwable acquiredAt;
        volatile boolean ended;

        Record(Throwable acquiredAt) {
            this.acquiredAt = acquiredAt;
        }
    }

    <C> Record newRecord() {
        return new Record(new Throwable("lease acquired here"));
    }

    <C> void track(PooledLease<C> lease, Pool<C> pool) {
        Record record = lease.leakRecord;
        PoolEntry<C> entry = lease.entry;
        String name = poolName;
        scheduler.schedule(() -> {
            if (!record.ended) {
                LOG.warn("pool '{}': lease on {} held longer than {} ms; possible leak", name, entry,
                        TimeUnit.NANOSECONDS.toMillis(thresholdNanos), record.acquiredAt);
            }
        }, thresholdNanos, TimeUnit.NANOSECONDS);
        CLEANER.register(lease, () -> {
            if (!record.ended) {
                record.ended = true;
                LOG.warn("pool '{}': lease on {} was garbage-collected without close(); slot returned", name, entry,
                        record.acquiredAt);
                pool.release(entry, false);
            }
        });
    }
}

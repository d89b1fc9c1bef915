package io.sluice.pool;

import java.lang.ref.Cleaner;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Optional detection of leases that are never closed. Off by default; when on, each lease
 * records the stack that acquired it, a timer logs it if it is still held after the
 * threshold, and a {@link Cleaner} logs it and returns its slot if the lease becomes
 * garbage without having been closed (the weak-reference approach OkHttp and Jetty use).
 * The timer is cancelled and the cleaner deregistered when the lease ends, so the
 * scheduler's queue holds one task per lease <em>out</em>, not per lease ever taken; a
 * closed pool starts no timer.
 *
 * <p><b>Thread-safety:</b> thread-safe; see {@link Record}.
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

    /**
     * State shared by a lease and its cleaner; must not reference the lease itself.
     *
     * <p>{@link #ended} is written once by whoever ends the lease (close, invalidate or the
     * cleaner). {@link #timer} and {@link #cleanable} are written once by {@link #track},
     * which may run after the lease ended (a caller closing it at once): both sides write
     * their own field and then read the other's, so at least one of them cancels the timer.
     */
    static final class Record {
        final Throwable acquiredAt;
        volatile boolean ended;
        volatile ScheduledFuture<?> timer;
        volatile Cleaner.Cleanable cleanable;

        Record(Throwable acquiredAt) {
            this.acquiredAt = acquiredAt;
        }

        /** The lease ended normally: its timer and cleaner have nothing left to do. */
        void end() {
            ended = true;
            release();
        }

        private void release() {
            ScheduledFuture<?> t = timer;
            if (t != null) {
                t.cancel(false);
            }
            Cleaner.Cleanable c = cleanable;
            if (c != null) {
                c.clean(); // deregisters; the action sees ended and does nothing
            }
        }
    }

    <C> Record newRecord() {
        return new Record(new Throwable("lease acquired here"));
    }

    <C> void track(PooledLease<C> lease, Pool<C> pool) {
        Record record = lease.leakRecord;
        PoolEntry<C> entry = lease.entry;
        String name = poolName;
        record.cleanable = CLEANER.register(lease, () -> {
            if (!record.ended) {
                record.ended = true;
                LOG.warn("pool '{}': lease on {} was garbage-collected without close(); slot returned", name, entry,
                        record.acquiredAt);
                ScheduledFuture<?> t = record.timer;
                if (t != null) {
                    t.cancel(false);
                }
                pool.release(entry, false);
            }
        });
        if (!pool.isClosed()) {
            try {
                record.timer = scheduler.schedule(() -> {
                    if (!record.ended) {
                        LOG.warn("pool '{}': lease on {} held longer than {} ms; possible leak", name, entry,
                                TimeUnit.NANOSECONDS.toMillis(thresholdNanos), record.acquiredAt);
                    }
                }, thresholdNanos, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                // the scheduler was shut down: the pool is closing, and the cleaner still returns a lost slot
            }
        }
        if (record.ended) {
            record.release(); // ended before the timer was set
        }
    }
}

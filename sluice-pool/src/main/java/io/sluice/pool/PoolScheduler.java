package io.sluice.pool;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Creates the single-threaded daemon scheduler a pool uses for waiter timeouts, connect
 * backoff and housekeeping when the caller supplies none. Cancelled timers are removed at
 * once, so a served waiter leaves nothing behind in the queue.
 *
 * <p><b>Thread-safety:</b> stateless apart from a thread counter.
 */
public final class PoolScheduler {

    private static final AtomicInteger THREADS = new AtomicInteger();

    private PoolScheduler() {
    }

    /** A new scheduler with one daemon thread named after {@code name}; the caller owns and shuts it down. */
    public static ScheduledExecutorService newScheduler(String name) {
        ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "sluice-" + name + "-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        s.setRemoveOnCancelPolicy(true);
        s.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        return s;
    }
}

package io.sluice.pool;

import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A completion executor that counts its in-flight tasks, so a stress test can wait until
 * no handoff is being delivered (a quiescent point), plus a factory for a real scheduler.
 *
 * <p><b>Thread-safety:</b> thread-safe.
 */
final class StressTrackedExecutor implements Executor {

    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger executed = new AtomicInteger();
    private final ExecutorService delegate;

    StressTrackedExecutor(String name) {
        AtomicInteger n = new AtomicInteger();
        this.delegate = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, name + "-completion-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void execute(Runnable command) {
        inFlight.incrementAndGet();
        executed.incrementAndGet();
        try {
            delegate.execute(() -> {
                try {
                    command.run();
                } finally {
                    inFlight.decrementAndGet();
                }
            });
        } catch (RuntimeException e) {
            inFlight.decrementAndGet();
            throw e;
        }
    }

    void shutdown() throws InterruptedException {
        delegate.shutdown();
        delegate.awaitTermination(5, TimeUnit.SECONDS);
    }

    /** A real one-thread scheduler, as the pool would create, which the test owns. */
    static ScheduledExecutorService scheduler(String name) {
        ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, name + "-scheduler");
            t.setDaemon(true);
            return t;
        });
        s.setRemoveOnCancelPolicy(true);
        return s;
    }
}

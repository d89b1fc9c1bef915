package io.sluice.cli.bench;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;

/**
 * A closed-loop load: at most {@code concurrency} operations in flight, a new one started as soon as
 * one ends, until {@code total} have started or {@code keepGoing} says stop. Records each
 * operation's latency and counts failures by exception type.
 *
 * <p><b>Thread-safety:</b> one {@link #run} at a time per instance; the counters are thread-safe.
 */
public final class LoadDriver {
    private final LatencyStats latency = new LatencyStats();
    private final AtomicLong ok = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final Map<String, Long> failures = new ConcurrentHashMap<>();
    private final ProgressLine progress;

    public LoadDriver(ProgressLine progress) {
        this.progress = progress;
    }

    /**
     * Runs {@code op} (given the operation's index) with at most {@code concurrency} in flight, at most
     * {@code total} times (0 = no limit) while {@code keepGoing} holds, then waits for every operation
     * to end (at most {@code drainSeconds}).
     */
    public void run(int total, int concurrency, BooleanSupplier keepGoing, IntFunction<CompletableFuture<?>> op,
            long drainSeconds) throws InterruptedException {
        Semaphore slots = new Semaphore(concurrency);
        for (int i = 0; (total <= 0 || i < total) && keepGoing.getAsBoolean(); i++) {
            slots.acquire();
            long start = System.nanoTime();
            CompletableFuture<?> f;
            try {
                f = op.apply(i);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            f.whenComplete((r, e) -> {
                if (e == null) {
                    latency.record(System.nanoTime() - start);
                    ok.incrementAndGet();
                } else {
                    failed.incrementAndGet();
                    failures.merge(describe(e), 1L, Long::sum);
                    progress.error();
                }
                progress.done(1);
                slots.release();
            });
        }
        if (!slots.tryAcquire(concurrency, drainSeconds, TimeUnit.SECONDS)) {
            failures.merge("still running after " + drainSeconds + " s", (long) (concurrency
                    - slots.availablePermits()), Long::sum);
        } else {
            slots.release(concurrency);
        }
    }

    /** Starts {@code n} operations at once and waits for all of them (at most {@code waitSeconds}). */
    public void burst(int n, IntFunction<CompletableFuture<?>> op, long waitSeconds) throws InterruptedException {
        CountDownLatch left = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            CompletableFuture<?> f;
            try {
                f = op.apply(i);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            f.whenComplete((r, e) -> {
                if (e == null) {
                    latency.record(System.nanoTime() - start);
                    ok.incrementAndGet();
                } else {
                    failed.incrementAndGet();
                    failures.merge(describe(e), 1L, Long::sum);
                    progress.error();
                }
                progress.done(1);
                left.countDown();
            });
        }
        if (!left.await(waitSeconds, TimeUnit.SECONDS)) {
            failures.merge("still running after " + waitSeconds + " s", left.getCount(), Long::sum);
        }
    }

    static String describe(Throwable e) {
        while ((e instanceof java.util.concurrent.CompletionException
                || e instanceof java.util.concurrent.ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        String m = e.getMessage();
        if (m != null && m.length() > 160) {
            m = m.substring(0, 160) + "…";
        }
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    public LatencyStats latency() {
        return latency;
    }

    public long ok() {
        return ok.get();
    }

    public long failed() {
        return failed.get() + failures.entrySet().stream().filter(x -> x.getKey().startsWith("still running"))
                .mapToLong(Map.Entry::getValue).sum();
    }

    /** Failures by "Type: message", for the report. */
    public Map<String, Long> failures() {
        return Map.copyOf(failures);
    }
}

package io.sluice.bench.compare;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Drives a {@link Peer}. {@link #closedLoop} keeps exactly {@code concurrency} requests in flight:
 * each completion (on the client's own callback thread) issues the next request, as an async
 * application would, until {@code n} have been sent. Latency is measured from the
 * {@link Peer#send} call to the completion of the whole response, successful ones only, into an
 * HdrHistogram {@link Recorder} (wait-free for the recording threads).
 *
 * <p>A client that completes synchronously inside {@code send} (an immediate failure) would
 * recurse; past a small depth the next request is handed to a trampoline thread instead.
 */
final class LoadDriver {
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);
    private static final ExecutorService TRAMPOLINE = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "compare-trampoline");
        t.setDaemon(true);
        return t;
    });

    /** What a run did. Latencies are in nanoseconds. */
    record Outcome(long requests, long ok, long errors, String firstError, boolean timedOut, long elapsedNanos,
                   Histogram latency) {
        double rps() {
            return ok / (elapsedNanos / 1e9);
        }
    }

    private LoadDriver() {
    }

    static Outcome closedLoop(Peer peer, long n, int concurrency, long delayMs, Duration deadline) {
        Run run = new Run(peer, n, delayMs);
        long t0 = System.nanoTime();
        for (int i = 0; i < Math.min(concurrency, n); i++) {
            run.issue();
        }
        return run.await(t0, deadline);
    }

    /** Sends {@code n} requests at once from the calling thread (open loop), then waits for all. */
    static Outcome burst(Peer peer, int n, long delayMs, Duration deadline) {
        Run run = new Run(peer, n, delayMs);
        run.chain = false;
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            run.issue();
        }
        return run.await(t0, deadline);
    }

    private static final class Run {
        final Peer peer;
        final long n;
        final long delayMs;
        final AtomicLong issued = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        final AtomicReference<String> firstError = new AtomicReference<>();
        final CountDownLatch done;
        final Recorder recorder = new Recorder(3);
        volatile boolean chain = true;

        Run(Peer peer, long n, long delayMs) {
            this.peer = peer;
            this.n = n;
            this.delayMs = delayMs;
            this.done = new CountDownLatch((int) n);
        }

        void issue() {
            if (issued.getAndIncrement() >= n) {
                return;
            }
            long start = System.nanoTime();
            try {
                peer.send(delayMs, (status, bytes, error) -> completed(start, status, bytes, error));
            } catch (Throwable t) {
                completed(start, 0, 0, t);
            }
        }

        void completed(long start, int status, int bytes, Throwable error) {
            long dt = System.nanoTime() - start;
            if (error != null || status != 200 || bytes <= 0) {
                errors.incrementAndGet();
                firstError.compareAndSet(null, error != null ? error.toString() : "status " + status + ", " + bytes + " bytes");
            } else {
                recorder.recordValue(dt);
            }
            done.countDown();
            if (chain) {
                int[] depth = DEPTH.get();
                if (depth[0] > 16) {
                    TRAMPOLINE.execute(this::issue);
                    return;
                }
                depth[0]++;
                try {
                    issue();
                } finally {
                    depth[0]--;
                }
            }
        }

        Outcome await(long t0, Duration deadline) {
            boolean finished;
            try {
                finished = done.await(deadline.toNanos(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                finished = false;
            }
            long elapsed = System.nanoTime() - t0;
            chain = false;
            long missing = done.getCount();
            long errs = errors.get() + missing;
            String first = firstError.get();
            if (missing > 0 && first == null) {
                first = missing + " requests did not complete within " + deadline;
            }
            return new Outcome(n, n - errs, errs, first, !finished, elapsed, recorder.getIntervalHistogram());
        }
    }
}

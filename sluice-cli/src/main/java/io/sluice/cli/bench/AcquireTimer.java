package io.sluice.cli.bench;

import io.sluice.pool.Lease;
import io.sluice.pool.Pool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Times {@link Pool#acquire()} as a caller sees it, while the phase's load runs: one thread acquires,
 * waits for the lease, records the time from the call to the lease in hand, and releases it at once,
 * every {@value #PAUSE_MICROS} µs. The pool itself only records how long a caller waited (an acquire
 * served at once counts as a zero wait), which cannot tell 50 ns from 900 µs; this measures the call.
 *
 * <p><b>Thread-safety:</b> {@link #start()} and {@link #close()} from the phase's thread; the timing
 * thread owns its loop and records into a thread-safe {@link LatencyStats}. Owns that thread: {@link
 * #close()} stops and joins it.
 */
final class AcquireTimer implements AutoCloseable {

    /** Between samples: enough to leave the pool to the load, often enough for thousands of samples. */
    static final long PAUSE_MICROS = 200;

    private final Pool<?> pool;
    private final LatencyStats calls = new LatencyStats();
    private final Thread thread;
    /** Written by {@link #close()}, read by the timing thread. */
    private volatile boolean stopped;
    /** The first failure of an acquire, or null; written by the timing thread only. */
    private volatile Throwable failure;

    AcquireTimer(Pool<?> pool) {
        this.pool = pool;
        this.thread = new Thread(this::loop, "sluice-bench-acquire-timer");
        thread.setDaemon(true);
    }

    AcquireTimer start() {
        thread.start();
        return this;
    }

    private void loop() {
        while (!stopped) {
            long t0 = System.nanoTime();
            try {
                Lease<?> lease = pool.acquire().get(30, TimeUnit.SECONDS);
                calls.record(System.nanoTime() - t0);
                lease.close();
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                // A failed acquire is the load's business (it counts its own failures); stop timing.
                failure = e;
                return;
            }
            LockSupport.parkNanos(PAUSE_MICROS * 1000);
        }
    }

    /** The acquire calls timed so far, in ns. */
    LatencyStats calls() {
        return calls;
    }

    /** Why the timer stopped early, or null. */
    Throwable failure() {
        return failure;
    }

    @Override
    public void close() throws InterruptedException {
        stopped = true;
        thread.join(TimeUnit.SECONDS.toMillis(35));
    }
}

package io.sluice.pool;

import java.util.concurrent.locks.LockSupport;

/**
 * A process-wide clock that one daemon thread refreshes about every millisecond.
 * Lifetime deadlines and idle checks only need millisecond precision, and reading a
 * volatile field is cheaper than {@link System#nanoTime()} on the acquire path.
 *
 * <p><b>Thread-safety:</b> the single updater thread owns {@link #now}; readers see it
 * through the volatile read.
 */
final class CoarseTicker implements Ticker {

    static final CoarseTicker INSTANCE = new CoarseTicker();

    private volatile long now = System.nanoTime();

    private CoarseTicker() {
        Thread updater = new Thread(this::run, "sluice-coarse-clock");
        updater.setDaemon(true);
        updater.start();
    }

    private void run() {
        for (;;) {
            LockSupport.parkNanos(1_000_000L);
            now = System.nanoTime();
        }
    }

    @Override
    public long nanoTime() {
        return now;
    }
}

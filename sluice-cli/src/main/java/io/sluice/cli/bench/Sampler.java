package io.sluice.cli.bench;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleConsumer;

/**
 * Calls a sampling function every few milliseconds with the seconds since {@code startNanos}, on its
 * own daemon thread, until closed (one last sample is taken at close).
 *
 * <p><b>Thread-safety:</b> the function runs on the sampler's thread; close from any thread.
 */
public final class Sampler implements AutoCloseable {
    private final ScheduledExecutorService timer;
    private final DoubleConsumer sample;
    private final long startNanos;

    private Sampler(long periodMillis, long startNanos, DoubleConsumer sample) {
        this.sample = sample;
        this.startNanos = startNanos;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-bench-sampler");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(this::tick, 0, periodMillis, TimeUnit.MILLISECONDS);
    }

    public static Sampler every(long periodMillis, long startNanos, DoubleConsumer sample) {
        return new Sampler(periodMillis, startNanos, sample);
    }

    private void tick() {
        try {
            sample.accept((System.nanoTime() - startNanos) / 1e9);
        } catch (RuntimeException ignored) {
            // a failed sample leaves a gap in the chart, nothing more
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        tick();
    }
}

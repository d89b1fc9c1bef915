package io.sluice.routing;

import java.time.Duration;

/**
 * A peak-sensitive moving average of latency (Finagle's and Linkerd's peak-EWMA): a
 * sample above the current estimate replaces it at once, so a region that slows down is
 * avoided immediately; a sample below it is blended in with a weight that decays with
 * the time since the previous sample ({@code w = exp(-elapsed / decay)}), so a region
 * recovers smoothly.
 *
 * <p><b>Thread-safety:</b> thread-safe; updates are synchronized on the instance (short,
 * arithmetic only).
 */
public final class PeakEwma {

    private final double decayNanos;
    private double estimateNanos;
    private long lastNanos;
    private boolean hasData;

    /** An average whose old samples lose weight with time constant {@code decay}. */
    public PeakEwma(Duration decay) {
        if (decay.isZero() || decay.isNegative()) {
            throw new IllegalArgumentException("decay must be positive, was " + decay);
        }
        this.decayNanos = decay.toNanos();
    }

    /** Adds a latency sample taken at {@code nowNanos}. */
    public synchronized void record(long latencyNanos, long nowNanos) {
        double sample = Math.max(0, latencyNanos);
        if (!hasData || sample > estimateNanos) {
            estimateNanos = sample;
        } else {
            double elapsed = Math.max(0, nowNanos - lastNanos);
            double w = Math.exp(-elapsed / decayNanos);
            estimateNanos = estimateNanos * w + sample * (1 - w);
        }
        lastNanos = nowNanos;
        hasData = true;
    }

    /** Whether any sample was recorded. */
    public synchronized boolean hasData() {
        return hasData;
    }

    /** The current estimate in nanoseconds (0 before any sample). */
    public synchronized long estimateNanos() {
        return (long) estimateNanos;
    }
}

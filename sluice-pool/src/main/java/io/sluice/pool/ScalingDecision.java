package io.sluice.pool;

/**
 * One evaluation of the {@link AdaptiveScaler}, kept with the inputs it was based on.
 *
 * <p><b>Thread-safety:</b> immutable.
 *
 * @param atNanos         when it was taken, on the scaler's ticker
 * @param pool            the pool's name
 * @param action          what was done
 * @param from            maxConnections before
 * @param to              maxConnections after
 * @param meanWaitMillis  mean acquire wait over the interval
 * @param utilisation     mean leased slots ÷ mean offered slots over the interval (0..1)
 * @param acquisitions    acquires during the interval
 * @param samples         load samples the means are taken over
 */
public record ScalingDecision(long atNanos, String pool, Action action, int from, int to, double meanWaitMillis,
        double utilisation, long acquisitions, int samples) {

    /** What an evaluation did. */
    public enum Action {
        /** Mean wait above the threshold: the limit grew. */
        GROW,
        /** Utilisation below the threshold: the limit shrank. */
        SHRINK,
        /** Neither, or already at the bound. */
        HOLD
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT,
                "%s pool '%s' maxConnections %d -> %d (mean wait %.1f ms, utilisation %.0f %%, %d acquisitions, %d samples)",
                action, pool, from, to, meanWaitMillis, utilisation * 100, acquisitions, samples);
    }
}

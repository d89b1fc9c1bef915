package io.sluice.cli.bench;

import java.util.Locale;

/** Number formatting shared by the reports, so the text, JSON and HTML show the same digits. *
 * <p><b>Thread-safety:</b> stateless.
 */
public final class Num {
    private Num() {
    }

    /** Nanoseconds to milliseconds, rounded to 3 decimals (microsecond resolution). */
    public static double ms(long nanos) {
        return round(nanos / 1e6, 3);
    }

    public static double round(double v, int decimals) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return 0;
        }
        double f = Math.pow(10, decimals);
        return Math.round(v * f) / f;
    }

    /** A human-readable byte count: 1.23 MB (decimal units, as the seed's "3MB"). */
    public static String bytes(double b) {
        double a = Math.abs(b);
        if (a >= 1e6) {
            return String.format(Locale.ROOT, "%.2f MB", b / 1e6);
        }
        if (a >= 1e3) {
            return String.format(Locale.ROOT, "%.1f kB", b / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f B", b);
    }

    /** Milliseconds with 3 decimals: {@code 0.412 ms}. */
    public static String millis(double ms) {
        return String.format(Locale.ROOT, "%.3f ms", ms);
    }

    public static String pct(double ratio) {
        return String.format(Locale.ROOT, "%.2f %%", ratio * 100);
    }
}

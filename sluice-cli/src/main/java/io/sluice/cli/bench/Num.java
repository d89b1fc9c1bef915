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

    /**
     * A duration in the unit its size needs, three significant digits: {@code 412 ns},
     * {@code 3.41 µs}, {@code 12.5 ms}, {@code 1.20 s}. Sub-microsecond waits print in ns rather
     * than as {@code 0.000 ms}.
     */
    public static String duration(double nanos) {
        double a = Math.abs(nanos);
        if (a < 1e3) {
            return String.format(Locale.ROOT, "%.0f ns", nanos);
        }
        if (a < 1e6) {
            return String.format(Locale.ROOT, "%s µs", threeDigits(nanos / 1e3));
        }
        if (a < 1e9) {
            return String.format(Locale.ROOT, "%s ms", threeDigits(nanos / 1e6));
        }
        return String.format(Locale.ROOT, "%s s", threeDigits(nanos / 1e9));
    }

    private static String threeDigits(double v) {
        double a = Math.abs(v);
        return String.format(Locale.ROOT, a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : "%.2f", v);
    }

    /** An integer with thousands separators ({@code 10,000}); other numbers as they print. */
    public static String grouped(Number n) {
        if (n instanceof Long || n instanceof Integer || n instanceof Short) {
            return String.format(Locale.ROOT, "%,d", n.longValue());
        }
        double d = n.doubleValue();
        if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            return String.format(Locale.ROOT, "%,d", (long) d);
        }
        return String.valueOf(d);
    }

    public static String pct(double ratio) {
        return String.format(Locale.ROOT, "%.2f %%", ratio * 100);
    }
}

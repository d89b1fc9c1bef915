package io.sluice.cli.bench;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code --html} report: one self-contained XHTML file (well-formed XML, inline CSS and SVG, no
 * scripts, fonts or external URLs) with the criteria table, a latency percentile curve per phase,
 * connections and pool size over time, and the pool's acquire-wait histogram. Every chart carries the
 * numbers it draws as {@code data-*} attributes and text labels, so tests can check them. The
 * acquire histogram has log scales (time in ns, count); a time series is drawn as panels that
 * share the time axis, one y axis per panel, with the phase's scaler decisions and injected
 * faults marked on it.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
public final class HtmlReport {
    private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};
    private static final int W = 640;
    private static final int H = 260;
    private static final int L = 60;
    private static final int R = 20;
    private static final int T = 20;
    private static final int B = 40;

    private HtmlReport() {
    }

    public static String render(BenchReport report) {
        StringBuilder h = new StringBuilder(64 * 1024);
        h.append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n")
                .append("<meta charset=\"utf-8\"/>\n<title>Sluice bench report</title>\n<style>\n")
                .append("body{font-family:sans-serif;margin:2em;max-width:72em;color:#222}")
                .append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;")
                .append("text-align:left;vertical-align:top}.PASS{background:#dfd}.FAIL{background:#fdd}")
                .append(".SKIP{background:#eee}svg{background:#fafafa;border:1px solid #ddd;margin:0.5em 0}")
                .append("svg text{font-size:11px;font-family:sans-serif}.note{color:#555;font-size:90%}\n")
                .append("</style>\n</head>\n<body>\n");
        h.append("<h1>Sluice bench</h1>\n<p>").append(esc(String.valueOf(report.environment().get("target"))))
                .append("<br/>").append(esc(report.environment().get("os") + ", " + report.environment().get("cpus")
                        + " CPUs, " + report.environment().get("java") + ", " + report.environment().get("mode")
                        + " mode, " + String.format(Locale.ROOT, "%.1f s", report.durationMillis() / 1000.0)
                        + ", " + report.errors() + " errors"))
                .append("</p>\n");
        criteria(h, report);
        for (PhaseResult p : report.phases()) {
            h.append("<h2 id=\"phase-").append(esc(p.id())).append("\">").append(esc(p.title())).append("</h2>\n");
            if (p.skipped() != null) {
                h.append("<p class=\"note\">skipped: ").append(esc(p.skipped())).append("</p>\n");
                continue;
            }
            if (!p.latencies().isEmpty()) {
                latencyChart(h, p);
            }
            if (p.acquireWaits() != null) {
                histogram(h, p.acquireWaits());
            }
            List<Marker> markers = markers(p);
            for (TimeSeries s : p.series()) {
                seriesChart(h, s, markers);
            }
            metrics(h, p);
            for (String n : p.notes()) {
                h.append("<p class=\"note\">").append(esc(n)).append("</p>\n");
            }
        }
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    private static void criteria(StringBuilder h, BenchReport report) {
        h.append("<table id=\"criteria\">\n<tr><th>Criterion</th><th>Target</th><th>Measured</th><th>Result</th></tr>\n");
        for (Criterion c : report.criteria()) {
            h.append("<tr data-id=\"").append(esc(c.id())).append("\" class=\"").append(c.verdict()).append("\"><td>")
                    .append(esc(c.name())).append("</td><td>").append(esc(c.target())).append("</td><td>")
                    .append(esc(c.measuredWithReasons())).append("</td><td>").append(c.verdict()).append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    private static void metrics(StringBuilder h, PhaseResult p) {
        h.append("<table class=\"metrics\">\n");
        for (Map.Entry<String, Object> e : p.metrics().entrySet()) {
            h.append("<tr><td>").append(esc(e.getKey())).append("</td><td>").append(esc(String.valueOf(e.getValue())))
                    .append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    /** x position of percentile p on a "nines" axis: 0, 90, 99, 99.9, 99.99 equally spaced; max at the end. */
    static double nines(double p) {
        if (p >= 100) {
            return 4.5;
        }
        return Math.min(4.0, -Math.log10(1 - p / 100.0));
    }

    private static void latencyChart(StringBuilder h, PhaseResult p) {
        double maxMs = 0;
        for (LatencyStats s : p.latencies().values()) {
            maxMs = Math.max(maxMs, Num.ms(s.maxNanos()));
        }
        double yMax = niceCeil(maxMs);
        h.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" data-chart=\"latency-").append(esc(p.id()))
                .append("\" width=\"").append(W).append("\" height=\"").append(H).append("\" viewBox=\"0 0 ")
                .append(W).append(' ').append(H).append("\">\n");
        h.append("<title>").append(esc(p.title())).append(": latency by percentile</title>\n");
        axes(h, "percentile", "ms", yMax);
        String[] xl = {"0", "90", "99", "99.9", "99.99", "max"};
        double[] xv = {0, 1, 2, 3, 4, 4.5};
        for (int i = 0; i < xl.length; i++) {
            double x = L + xv[i] / 4.5 * (W - L - R);
            h.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", x,
                    H - B + 14, xl[i]));
        }
        int idx = 0;
        for (Map.Entry<String, LatencyStats> e : p.latencies().entrySet()) {
            String color = COLORS[idx % COLORS.length];
            LatencyStats s = e.getValue();
            StringBuilder pts = new StringBuilder();
            StringBuilder dots = new StringBuilder();
            for (Map.Entry<Double, Double> c : s.curveMillis().entrySet()) {
                double x = L + nines(c.getKey()) / 4.5 * (W - L - R);
                double y = yOf(c.getValue(), yMax);
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
                dots.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\""
                                + " data-series=\"%s\" data-percentile=\"%s\" data-ms=\"%s\"/>%n", x, y, color,
                        esc(e.getKey()), fmt(c.getKey()), fmt(c.getValue())));
            }
            h.append("<g data-series=\"").append(esc(e.getKey())).append("\" data-count=\"").append(s.count())
                    .append("\" data-p50-ms=\"").append(fmt(Num.ms(s.percentileNanos(50)))).append("\" data-p99-ms=\"")
                    .append(fmt(Num.ms(s.percentileNanos(99)))).append("\">\n");
            h.append("<polyline fill=\"none\" stroke=\"").append(color).append("\" stroke-width=\"1.5\" points=\"")
                    .append(pts.toString().trim()).append("\"/>\n").append(dots);
            h.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"%s\">%s: p50 %s ms, p99 %s ms, max %s ms"
                            + " (n=%d)</text>%n", L + 8, T + 12 + 14 * idx, color, esc(e.getKey()),
                    fmt(Num.ms(s.percentileNanos(50))), fmt(Num.ms(s.percentileNanos(99))), fmt(Num.ms(s.maxNanos())),
                    s.count()));
            h.append("</g>\n");
            idx++;
        }
        h.append("</svg>\n");
    }

    /** Bars per decade on the histogram's log axis. */
    static final int BARS_PER_DECADE = 4;

    /**
     * The acquire histogram on a log axis in nanoseconds: acquires take from a few hundred ns to
     * milliseconds, which a linear axis draws as one full-width bar. Ticks at each decade (100 ns,
     * 1 µs, 10 µs, ...); zero values, if any, in a bar left of the axis; bar heights log-scaled too.
     */
    private static void histogram(StringBuilder h, LatencyStats waits) {
        List<long[]> buckets = waits.decadeBuckets(BARS_PER_DECADE);
        long maxCount = 1;
        long zeros = 0;
        long lowest = Long.MAX_VALUE;
        long highest = 1;
        for (long[] b : buckets) {
            maxCount = Math.max(maxCount, b[2]);
            if (b[1] == 0) {
                zeros = b[2];
            } else {
                lowest = Math.min(lowest, b[0]);
                highest = Math.max(highest, b[1]);
            }
        }
        double logMax = Math.log10(maxCount + 1);
        h.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" data-chart=\"acquire-wait-histogram\"")
                .append(" data-axis=\"log-ns\" data-count=\"").append(waits.count()).append("\" data-p50-ms=\"")
                .append(fmt(Num.ms(waits.percentileNanos(50)))).append("\" data-p99-ms=\"")
                .append(fmt(Num.ms(waits.percentileNanos(99)))).append("\" data-max-ms=\"")
                .append(fmt(Num.ms(waits.maxNanos()))).append("\" width=\"").append(W).append("\" height=\"").append(H)
                .append("\" viewBox=\"0 0 ").append(W).append(' ').append(H).append("\">\n");
        h.append("<title>Acquire time histogram (log scales: time in ns, count)</title>\n");
        axes(h, "acquire time (log scale)", "count (log)", -1);
        if (lowest != Long.MAX_VALUE) {
            // The zero bar, when there is one, takes the first slot; the log axis the rest.
            int zeroSlot = zeros > 0 ? 30 : 0;
            double x0 = L + zeroSlot;
            double span = W - R - x0;
            double lo = Math.log10(lowest);
            double hi = Math.log10(highest);
            for (long[] b : buckets) {
                double hgt = b[2] == 0 ? 0 : Math.log10(b[2] + 1) / logMax * (H - T - B);
                double x;
                double w;
                if (b[1] == 0) {
                    x = L + 2;
                    w = zeroSlot - 6;
                } else {
                    x = x0 + (Math.log10(b[0]) - lo) / (hi - lo) * span;
                    w = (Math.log10(b[1]) - Math.log10(b[0])) / (hi - lo) * span;
                }
                h.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\""
                                + " fill=\"%s\" data-low-ns=\"%d\" data-high-ns=\"%d\" data-count=\"%d\"/>%n", x + 0.5,
                        H - B - hgt, Math.max(1, w - 1), hgt, COLORS[0], b[0], b[1], b[2]));
            }
            if (zeros > 0) {
                h.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">0</text>%n",
                        L + zeroSlot / 2.0, H - B + 14));
            }
            for (long decade = 1; decade <= highest; decade *= 10) {
                if (decade < lowest) {
                    continue;
                }
                double x = x0 + (Math.log10(decade) - lo) / (hi - lo) * span;
                h.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#444\"/>%n",
                        x, H - B, x, H - B + 4));
                h.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" data-tick-ns=\"%d\">"
                        + "%s</text>%n", x, H - B + 14, decade, esc(Num.duration(decade))));
            }
        }
        h.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%d acquires: p50 %s, p99 %s, max %s</text>%n",
                L + 8, T + 12, waits.count(), esc(Num.duration(waits.percentileNanos(50))),
                esc(Num.duration(waits.percentileNanos(99))), esc(Num.duration(waits.maxNanos()))));
        h.append("</svg>\n");
    }

    /** Height of one panel of a time-series chart. */
    static final int PANEL_H = 150;
    /** Lines whose maxima differ by more than this share no panel (no y axis). */
    static final double PANEL_RANGE = 5;

    /** A vertical marker on a time axis: a scaler decision or an injected fault. */
    record Marker(double atSeconds, String label) {
    }

    /**
     * Groups line indexes into panels, largest maxima first: a line joins a panel whose largest
     * maximum is at most {@link #PANEL_RANGE} times its own, so counts of thousands and pool sizes
     * of 10 to 30 never share an axis (the small line would be a few pixels high).
     */
    static List<List<Integer>> panels(TimeSeries s) {
        List<Integer> order = new java.util.ArrayList<>();
        for (int i = 0; i < s.lines().size(); i++) {
            order.add(i);
        }
        order.sort((a, b) -> Double.compare(s.max(b), s.max(a)));
        List<List<Integer>> panels = new java.util.ArrayList<>();
        List<Double> panelMax = new java.util.ArrayList<>();
        for (int line : order) {
            double m = Math.max(s.max(line), 1e-9);
            boolean placed = false;
            for (int k = 0; k < panels.size() && !placed; k++) {
                if (panelMax.get(k) <= m * PANEL_RANGE) {
                    panels.get(k).add(line);
                    placed = true;
                }
            }
            if (!placed) {
                panels.add(new java.util.ArrayList<>(List.of(line)));
                panelMax.add(m);
            }
        }
        return panels;
    }

    /** The phase's events to mark on its time axes: scaler decisions (not HOLDs) and injected faults. */
    static List<Marker> markers(PhaseResult p) {
        List<Marker> out = new java.util.ArrayList<>();
        // Both lists carry at_s from the same phase start as the phase's time series (the Sampler's start).
        if (p.metrics().get("decisions") instanceof List<?> ds) {
            for (Object o : ds) {
                if (o instanceof Map<?, ?> m && !"HOLD".equals(m.get("action")) && m.get("at_s") instanceof Number at) {
                    out.add(new Marker(at.doubleValue(), m.get("action") + " " + m.get("from") + "→" + m.get("to")));
                }
            }
        }
        if (p.metrics().get("faults") instanceof List<?> fs) {
            for (Object o : fs) {
                if (o instanceof Map<?, ?> m && m.get("at_s") instanceof Number at) {
                    out.add(new Marker(at.doubleValue(), String.valueOf(m.get("action"))));
                }
            }
        }
        return out;
    }

    /**
     * A time-series chart as stacked panels sharing the time axis, each with its own y axis
     * ({@link #panels}), and the phase's events as vertical lines across all panels.
     */
    private static void seriesChart(StringBuilder h, TimeSeries s, List<Marker> markers) {
        List<double[]> pts = s.points();
        double tMax = 0;
        for (double[] p : pts) {
            tMax = Math.max(tMax, p[0]);
        }
        for (Marker m : markers) {
            tMax = Math.max(tMax, m.atSeconds());
        }
        double xMax = Math.max(0.1, tMax);
        List<List<Integer>> panels = panels(s);
        int height = T + panels.size() * PANEL_H + B;
        h.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" data-chart=\"series-").append(esc(s.id()))
                .append("\" data-panels=\"").append(panels.size()).append("\" width=\"").append(W).append("\" height=\"")
                .append(height).append("\" viewBox=\"0 0 ").append(W).append(' ').append(height).append("\">\n<title>")
                .append(esc(s.title())).append("</title>\n");
        for (int k = 0; k < panels.size(); k++) {
            int top = T + k * PANEL_H;
            int bottom = top + PANEL_H - 20;
            double vMax = 0;
            for (int line : panels.get(k)) {
                vMax = Math.max(vMax, s.max(line));
            }
            double yMax = niceCeil(vMax);
            h.append("<g data-panel=\"").append(k).append("\" data-y-max=\"").append(fmt(yMax))
                    .append("\" data-top=\"").append(top).append("\" data-bottom=\"").append(bottom).append("\">\n");
            h.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>%n", L,
                    bottom, W - R, bottom));
            h.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>%n", L,
                    top, L, bottom));
            for (int t = 0; t <= 2; t++) {
                double v = yMax * t / 2;
                double y = bottom - v / yMax * (bottom - top);
                h.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n", L - 4,
                        y + 4, fmt(Num.round(v, 3))));
                h.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>%n",
                        L, y, W - R, y));
            }
            int legend = 0;
            for (int line : panels.get(k)) {
                String color = COLORS[line % COLORS.length];
                StringBuilder poly = new StringBuilder();
                for (double[] p : pts) {
                    double y = bottom - p[line + 1] / yMax * (bottom - top);
                    poly.append(String.format(Locale.ROOT, "%.1f,%.1f ", L + p[0] / xMax * (W - L - R), y));
                }
                h.append("<polyline fill=\"none\" stroke=\"").append(color).append("\" stroke-width=\"1.5\" data-line=\"")
                        .append(esc(s.lines().get(line))).append("\" data-max=\"").append(fmt(s.max(line)))
                        .append("\" data-points=\"").append(pts.size()).append("\" points=\"")
                        .append(poly.toString().trim()).append("\"/>\n");
                h.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"%s\">%s (max %s)</text>%n", L + 8,
                        top + 12 + 14 * legend++, color, esc(s.lines().get(line)), fmt(s.max(line))));
            }
            h.append("</g>\n");
        }
        int axisY = T + panels.size() * PANEL_H - 20;
        for (int k = 0; k <= 4; k++) {
            double t = xMax * k / 4;
            h.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.1f</text>%n",
                    L + t / xMax * (W - L - R), axisY + 14, t));
        }
        h.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">seconds</text>%n",
                (W + L) / 2, axisY + 30));
        int row = 0;
        for (Marker m : markers) {
            double x = L + m.atSeconds() / xMax * (W - L - R);
            h.append(String.format(Locale.ROOT, "<g data-event=\"%s\" data-at-s=\"%s\"><line x1=\"%.1f\" y1=\"%d\""
                            + " x2=\"%.1f\" y2=\"%d\" stroke=\"#999\" stroke-dasharray=\"3,3\"/><text x=\"%.1f\" y=\"%d\""
                            + " fill=\"#666\" font-size=\"9\">%s</text></g>%n", esc(m.label()), fmt(m.atSeconds()), x, T,
                    x, axisY, x + 2, T + 8 + 10 * (row++ % 3), esc(m.label())));
        }
        h.append("</svg>\n");
    }

    private static void axes(StringBuilder h, String xLabel, String yLabel, double yMax) {
        h.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>%n", L, H - B,
                W - R, H - B));
        h.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>%n", L, T, L,
                H - B));
        h.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
                (W + L) / 2, H - 6, esc(xLabel)));
        if (yMax > 0) {
            for (int k = 0; k <= 4; k++) {
                double v = yMax * k / 4;
                double y = yOf(v, yMax);
                h.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n", L - 4,
                        y + 4, fmt(Num.round(v, 3))));
                h.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>%n",
                        L, y, W - R, y));
            }
        }
        if (!yLabel.isEmpty()) {
            h.append(String.format(Locale.ROOT, "<text x=\"12\" y=\"%d\" transform=\"rotate(-90 12 %d)\""
                    + " text-anchor=\"middle\">%s</text>%n", (T + H - B) / 2, (T + H - B) / 2, esc(yLabel)));
        }
    }

    private static double yOf(double v, double yMax) {
        return H - B - (yMax <= 0 ? 0 : v / yMax * (H - T - B));
    }

    static double niceCeil(double v) {
        if (v <= 0) {
            return 1;
        }
        double mag = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * mag >= v) {
                return m * mag;
            }
        }
        return 10 * mag;
    }

    /** A number as the reports print it: integers without a fraction, others as Java's shortest form. */
    static String fmt(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v);
    }

    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}

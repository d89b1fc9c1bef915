package io.sluice.cli.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * Values sampled over time during a phase (e.g. open connections, pool limit, waiters), for the
 * "over time" charts.
 *
 * <p><b>Thread-safety:</b> thread-safe (synchronized).
 *
 */
public final class TimeSeries {
    private final String id;
    private final String title;
    private final List<String> lines;
    private final List<double[]> points = new ArrayList<>(); // [tSeconds, v1, v2, ...]

    public TimeSeries(String id, String title, List<String> lines) {
        this.id = id;
        this.title = title;
        this.lines = List.copyOf(lines);
    }

    public String id() {
        return id;
    }

    public String title() {
        return title;
    }

    public List<String> lines() {
        return lines;
    }

    /** Adds one sample at {@code tSeconds} since the phase started; {@code values} in {@link #lines()} order. */
    public synchronized void add(double tSeconds, double... values) {
        if (values.length != lines.size()) {
            throw new IllegalArgumentException("expected " + lines.size() + " values, got " + values.length);
        }
        double[] p = new double[values.length + 1];
        p[0] = Num.round(tSeconds, 3);
        System.arraycopy(values, 0, p, 1, values.length);
        points.add(p);
    }

    public synchronized List<double[]> points() {
        return List.copyOf(points);
    }

    /** The largest value of line {@code i}. */
    public synchronized double max(int line) {
        double m = 0;
        for (double[] p : points) {
            m = Math.max(m, p[line + 1]);
        }
        return m;
    }
}

package io.sluice.cli.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one phase measured: named metrics (numbers, strings, small maps, all JSON-ready), notes for
 * people, latency distributions and time series for the charts, and its failed requests.
 *
 * <p><b>Thread-safety:</b> filled by its phase on one thread, then read-only.
 */
public final class PhaseResult {
    private final String id;
    private final String title;
    private final Map<String, Object> metrics = new LinkedHashMap<>();
    private final List<String> notes = new ArrayList<>();
    private final Map<String, LatencyStats> latencies = new LinkedHashMap<>();
    private final List<TimeSeries> series = new ArrayList<>();
    private LatencyStats acquireWaits;
    private String skipped;
    private long errors;
    private long durationMillis;

    public PhaseResult(String id, String title) {
        this.id = id;
        this.title = title;
    }

    public String id() {
        return id;
    }

    public String title() {
        return title;
    }

    public PhaseResult metric(String name, Object value) {
        metrics.put(name, value);
        return this;
    }

    public Map<String, Object> metrics() {
        return Collections.unmodifiableMap(metrics);
    }

    /** A metric as a number (0 when missing). */
    public double number(String name) {
        Object v = metrics.get(name);
        return v instanceof Number n ? n.doubleValue() : 0;
    }

    public PhaseResult note(String text) {
        notes.add(text);
        return this;
    }

    public List<String> notes() {
        return Collections.unmodifiableList(notes);
    }

    /** A latency distribution drawn as a percentile curve, e.g. "request" or "full handshake". */
    public PhaseResult latency(String name, LatencyStats stats) {
        latencies.put(name, stats);
        return this;
    }

    public Map<String, LatencyStats> latencies() {
        return Collections.unmodifiableMap(latencies);
    }

    public PhaseResult series(TimeSeries s) {
        series.add(s);
        return this;
    }

    public List<TimeSeries> series() {
        return Collections.unmodifiableList(series);
    }

    /** The pool's acquire-wait histogram (phase 3), drawn as bars. */
    public PhaseResult acquireWaits(LatencyStats h) {
        this.acquireWaits = h;
        return this;
    }

    public LatencyStats acquireWaits() {
        return acquireWaits;
    }

    /** Marks the phase as not run, with the reason. */
    public PhaseResult skip(String why) {
        this.skipped = why;
        return this;
    }

    /** Why the phase did not run, or null. */
    public String skipped() {
        return skipped;
    }

    public PhaseResult errors(long n) {
        this.errors = n;
        return this;
    }

    public long errors() {
        return errors;
    }

    public PhaseResult durationMillis(long ms) {
        this.durationMillis = ms;
        return this;
    }

    public long durationMillis() {
        return durationMillis;
    }
}

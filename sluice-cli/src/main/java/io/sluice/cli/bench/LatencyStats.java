package io.sluice.cli.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * Latencies of one kind (nanoseconds, 3 significant digits), recorded from any thread, with the
 * percentiles and the percentile curve the reports show.
 *
 * <p><b>Thread-safety:</b> thread-safe (a {@link ConcurrentHistogram}).
 */
public final class LatencyStats {
    /** The percentiles of every latency curve, in the order drawn. */
    public static final double[] CURVE = {0, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100};

    private final Histogram histogram;

    public LatencyStats() {
        this(new ConcurrentHistogram(3));
    }

    private LatencyStats(Histogram h) {
        this.histogram = h;
    }

    /** A copy of {@code h} (e.g. the pool's acquire-wait histogram). */
    public static LatencyStats of(io.sluice.pool.WaitHistogram waits) {
        Histogram c = new ConcurrentHistogram(3);
        waits.countsByNanos().forEach((nanos, count) -> c.recordValueWithCount(nanos, count));
        return new LatencyStats(c);
    }

    public void record(long nanos) {
        histogram.recordValue(Math.max(0, nanos));
    }

    public long count() {
        return histogram.getTotalCount();
    }

    /** The value at percentile {@code p} (0..100) in nanoseconds, 0 when empty. */
    public long percentileNanos(double p) {
        if (histogram.getTotalCount() == 0) {
            return 0;
        }
        return p >= 100 ? histogram.getMaxValue() : histogram.getValueAtPercentile(p);
    }

    public long maxNanos() {
        return histogram.getTotalCount() == 0 ? 0 : histogram.getMaxValue();
    }

    public double meanNanos() {
        return histogram.getTotalCount() == 0 ? 0 : histogram.getMean();
    }

    /** Percentile → milliseconds at the {@link #CURVE} points. */
    public Map<Double, Double> curveMillis() {
        Map<Double, Double> m = new LinkedHashMap<>();
        for (double p : CURVE) {
            m.put(p, Num.ms(percentileNanos(p)));
        }
        return m;
    }

    /**
     * Log-spaced bars over the recorded values, the first one [0, 1 µs): each {lowNanos, highNanos, count}
     * with low inclusive and high exclusive. At most about {@code buckets} bars.
     */
    public List<long[]> logBuckets(int buckets) {
        List<long[]> out = new ArrayList<>();
        if (histogram.getTotalCount() == 0) {
            return out;
        }
        long max = histogram.getMaxValue();
        List<Long> bounds = new ArrayList<>();
        bounds.add(0L);
        long high = 1000;
        double factor = Math.max(1.5, Math.pow(Math.max(2.0, max / 1000.0), 1.0 / Math.max(1, buckets - 1)));
        while (true) {
            bounds.add(high);
            if (high > max) {
                break;
            }
            high = Math.max(high + 1, (long) Math.ceil(high * factor));
        }
        long[] counts = new long[bounds.size() - 1];
        for (org.HdrHistogram.HistogramIterationValue v : histogram.recordedValues()) {
            long value = v.getValueIteratedTo();
            int i = 0;
            while (i < counts.length - 1 && value >= bounds.get(i + 1)) {
                i++;
            }
            counts[i] += v.getCountAtValueIteratedTo();
        }
        for (int i = 0; i < counts.length; i++) {
            out.add(new long[] {bounds.get(i), bounds.get(i + 1), counts[i]});
        }
        return out;
    }

    /**
     * Bars for a histogram on a log axis: bucket bounds at {@code perDecade} equal steps of each
     * decade of nanoseconds, from the decade of the smallest non-zero value to the one above the
     * largest; each {lowNanos, highNanos, count}, low inclusive, high exclusive. Zero values (an
     * acquire served before the clock moved) are counted in a first bar {0, 0, count} that the
     * chart draws left of the axis. Empty when nothing was recorded.
     */
    public List<long[]> decadeBuckets(int perDecade) {
        List<long[]> out = new ArrayList<>();
        if (histogram.getTotalCount() == 0) {
            return out;
        }
        long zeros = 0;
        long min = Long.MAX_VALUE;
        long max = 1;
        for (org.HdrHistogram.HistogramIterationValue v : histogram.recordedValues()) {
            long value = v.getValueIteratedTo();
            if (value == 0) {
                zeros += v.getCountAtValueIteratedTo();
            } else {
                min = Math.min(min, value);
                max = Math.max(max, value);
            }
        }
        if (zeros > 0) {
            out.add(new long[] {0, 0, zeros});
        }
        if (min == Long.MAX_VALUE) {
            return out;
        }
        int fromDecade = (int) Math.floor(Math.log10(min));
        int toDecade = (int) Math.floor(Math.log10(max)) + 1;
        int n = (toDecade - fromDecade) * perDecade;
        long[] bounds = new long[n + 1];
        for (int step = 0; step <= n; step++) {
            bounds[step] = Math.round(Math.pow(10, fromDecade + (double) step / perDecade));
        }
        long[] counts = new long[n];
        for (org.HdrHistogram.HistogramIterationValue v : histogram.recordedValues()) {
            long value = v.getValueIteratedTo();
            if (value == 0) {
                continue;
            }
            int k = 0;
            while (k < n - 1 && value >= bounds[k + 1]) {
                k++;
            }
            counts[k] += v.getCountAtValueIteratedTo();
        }
        for (int k = 0; k < n; k++) {
            out.add(new long[] {bounds[k], bounds[k + 1], counts[k]});
        }
        return out;
    }

    /** p50, p90, p99, p99.9, max and mean in milliseconds, plus the count. */
    public Map<String, Object> summaryMillis() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", count());
        m.put("p50_ms", Num.ms(percentileNanos(50)));
        m.put("p90_ms", Num.ms(percentileNanos(90)));
        m.put("p99_ms", Num.ms(percentileNanos(99)));
        m.put("p999_ms", Num.ms(percentileNanos(99.9)));
        m.put("max_ms", Num.ms(maxNanos()));
        m.put("mean_ms", Num.round(meanNanos() / 1e6, 3));
        return m;
    }
}

package io.sluice.pool;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * A snapshot of how long acquires waited, in nanoseconds (an acquire served at once counts as
 * 0), at three significant digits. Taken by {@link Pool#acquireWaits()}; later acquires do not
 * change it.
 *
 * <p><b>Thread-safety:</b> immutable after construction.
 */
public final class WaitHistogram {
    /** Owned copy; never handed out, so the snapshot cannot change. */
    private final Histogram histogram;

    WaitHistogram(Histogram snapshot) {
        this.histogram = snapshot;
    }

    /** Acquires recorded. */
    public long count() {
        return histogram.getTotalCount();
    }

    /** The wait at percentile {@code p} (0..100), 0 when empty. */
    public long percentileNanos(double p) {
        return histogram.getTotalCount() == 0 ? 0 : histogram.getValueAtPercentile(p);
    }

    /** The longest wait, 0 when empty. */
    public long maxNanos() {
        return histogram.getTotalCount() == 0 ? 0 : histogram.getMaxValue();
    }

    /** The mean wait, 0 when empty. */
    public double meanNanos() {
        return histogram.getTotalCount() == 0 ? 0 : histogram.getMean();
    }

    /**
     * Every distinct recorded wait (at the histogram's resolution) and how many acquires waited
     * that long, in increasing order of wait: enough to draw the distribution or merge it into
     * another histogram.
     */
    public Map<Long, Long> countsByNanos() {
        Map<Long, Long> out = new LinkedHashMap<>();
        for (HistogramIterationValue v : histogram.recordedValues()) {
            out.put(histogram.highestEquivalentValue(v.getValueIteratedTo()), v.getCountAtValueIteratedTo());
        }
        return Collections.unmodifiableMap(out);
    }

    @Override
    public String toString() {
        return "WaitHistogram[count=" + count() + ", p50=" + percentileNanos(50) + "ns, p99=" + percentileNanos(99)
                + "ns, max=" + maxNanos() + "ns]";
    }
}

package io.sluice.pool;

import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Records how long each acquire waited, for real percentiles (a running
 * {@code (current + new) / 2} is not an average: it forgets all but the last few waits).
 *
 * <p>Acquires served at once are only counted (a {@link LongAdder}, a few nanoseconds)
 * and folded into the histogram as zero waits when a snapshot is taken; waits are
 * recorded in an HdrHistogram {@link Recorder}, whose recording is wait-free.
 *
 * <p>The histograms (about 110 KB per pool at this range and precision) are created with
 * the first acquire that has to wait: a pool whose callers never wait, like most pools of
 * idle or lightly used routes, does not carry them. (HdrHistogram's packed, auto-resizing
 * concurrent variant would be smaller, but two writers racing its resize spin forever in
 * HdrHistogram 2.2.2; seen here under load.)
 *
 * <p><b>Thread-safety:</b> recording is thread-safe and lock-free once the recorder exists
 * (its creation is a one-time double-checked lock); {@link #snapshot()} is synchronized and
 * owns {@link #cumulative}, {@link #interval} and {@link #zeroWaitsFolded}.
 */
final class AcquireWaitRecorder {

    private static final long HIGHEST_NANOS = 3_600_000_000_000L;

    private volatile Recorder recorder;
    private final LongAdder zeroWaits = new LongAdder();
    private final LongAdder totalWaitNanos = new LongAdder();
    private Histogram cumulative;
    private long zeroWaitsFolded;
    private Histogram interval;

    void recordImmediate() {
        zeroWaits.increment();
    }

    void recordWait(long nanos) {
        long v = Math.max(0, Math.min(nanos, HIGHEST_NANOS));
        recorder().recordValue(v);
        totalWaitNanos.add(v);
    }

    private Recorder recorder() {
        Recorder r = recorder;
        if (r == null) {
            synchronized (this) {
                r = recorder;
                if (r == null) {
                    recorder = r = new Recorder(HIGHEST_NANOS, 2);
                }
            }
        }
        return r;
    }

    long immediateCount() {
        return zeroWaits.sum();
    }

    long totalWaitNanos() {
        return totalWaitNanos.sum();
    }

    /** A copy of every wait recorded so far, immediate acquires included as zeros. */
    synchronized Histogram snapshot() {
        Recorder r = recorder;
        if (r == null && cumulative == null) {
            // Nobody has waited yet: answer without keeping a histogram around.
            Histogram zerosOnly = new Histogram(HIGHEST_NANOS, 2);
            long zeros = zeroWaits.sum();
            if (zeros > 0) {
                zerosOnly.recordValueWithCount(0, zeros);
            }
            return zerosOnly;
        }
        if (cumulative == null) {
            cumulative = new Histogram(HIGHEST_NANOS, 2);
            zeroWaitsFolded = 0;
        }
        if (r != null) {
            interval = r.getIntervalHistogram(interval);
            cumulative.add(interval);
        }
        long zeros = zeroWaits.sum();
        if (zeros > zeroWaitsFolded) {
            cumulative.recordValueWithCount(0, zeros - zeroWaitsFolded);
            zeroWaitsFolded = zeros;
        }
        return cumulative.copy();
    }
}

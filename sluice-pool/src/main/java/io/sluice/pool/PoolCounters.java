package io.sluice.pool;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * A pool's cumulative counters and its acquire-wait recorder, and how they become a
 * {@link PoolStats} snapshot. The pool counts the gauges (open, idle, …) from its entries
 * and hands them to {@link #snapshot}.
 *
 * <p><b>Thread-safety:</b> every counter is a {@link LongAdder} incremented by any thread;
 * {@link #closedBy} is filled in the constructor and only read afterwards. A snapshot taken
 * while others count is not atomic across counters (exact at a quiescent point).
 */
final class PoolCounters {

    final LongAdder created = new LongAdder();
    final LongAdder failedConnects = new LongAdder();
    final LongAdder connectAttempts = new LongAdder();
    /** Acquires served after a wait (immediate ones are counted by {@link #waits}). */
    final LongAdder slowAcquisitions = new LongAdder();
    final LongAdder misses = new LongAdder();
    final LongAdder timeouts = new LongAdder();
    final LongAdder exhausted = new LongAdder();
    final LongAdder cancelled = new LongAdder();
    final AcquireWaitRecorder waits = new AcquireWaitRecorder();
    private final EnumMap<CloseReason, LongAdder> closedBy = new EnumMap<>(CloseReason.class);

    PoolCounters() {
        for (CloseReason r : CloseReason.values()) {
            closedBy.put(r, new LongAdder());
        }
    }

    void closed(CloseReason reason) {
        closedBy.get(reason).increment();
    }

    /** Successful acquires so far, immediate and after a wait. */
    long acquisitions() {
        return waits.immediateCount() + slowAcquisitions.sum();
    }

    /** The gauges counted from the entries, at one moment. */
    record Gauges(int maxConnections, int open, int connecting, int idle, int inUse, int draining, int leasesOut,
            int capacity, int pending) {
    }

    PoolStats snapshot(String name, Gauges g, long backoffs) {
        Map<CloseReason, Long> byReason = new EnumMap<>(CloseReason.class);
        long closedTotal = 0;
        for (Map.Entry<CloseReason, LongAdder> r : closedBy.entrySet()) {
            long v = r.getValue().sum();
            byReason.put(r.getKey(), v);
            closedTotal += v;
        }
        Histogram h = waits.snapshot();
        long acquisitions = acquisitions();
        long missCount = misses.sum();
        long count = h.getTotalCount();
        long waitTotal = waits.totalWaitNanos();
        return new PoolStats(name, g.maxConnections(), g.open(), g.connecting(), g.idle(), g.inUse(), g.draining(),
                g.leasesOut(), g.capacity(), g.pending(), created.sum(), closedTotal, Map.copyOf(byReason),
                failedConnects.sum(), acquisitions, acquisitions - missCount, missCount, timeouts.sum(),
                exhausted.sum(), cancelled.sum(),
                count == 0 ? 0 : h.getValueAtPercentile(50), count == 0 ? 0 : h.getValueAtPercentile(99),
                count == 0 ? 0 : h.getMaxValue(), acquisitions == 0 ? 0 : (double) waitTotal / acquisitions,
                waitTotal, connectAttempts.sum(), backoffs);
    }
}

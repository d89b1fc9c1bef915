package io.sluice.prometheus;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_36_2.Metrics;
import io.sluice.pool.AdaptiveScaler;
import io.sluice.pool.ConnectionEvents;
import io.sluice.pool.ConnectionManager;
import io.sluice.pool.Lease;
import io.sluice.pool.Pool;
import io.sluice.pool.PoolConfig;
import io.sluice.pool.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A pool and its adaptive scaler run for 48 hours of simulated time (a manual {@link Ticker}, no sleeping):
 * every counter and every histogram count in successive scrapes is at least what it was. The scaler keeps
 * only its last 256 decisions; a decisions counter derived from that history stopped growing after 256
 * intervals (about 43 minutes at the default 10 s) and then went down. {@code decisionCounts()} already
 * fixed that on main; this test keeps it fixed.
 */
@Timeout(120)
class CountersNeverDecreaseTest {

    /** Plain objects as connections, one slot each. */
    private static final class Plain implements ConnectionManager<Object> {
        @Override public CompletionStage<Object> connect(ConnectionEvents<Object> events) { return CompletableFuture.completedFuture(new Object()); }
        @Override public CompletionStage<Void> validate(Object c) { return CompletableFuture.completedFuture(null); }
        @Override public boolean hasBroken(Object c) { return false; }
        @Override public int capacity(Object c) { return 1; }
        @Override public void close(Object c) { }
    }

    @Test
    void countersAndHistogramCountsNeverGoDownOverFortyEightSimulatedHours() throws Exception {
        AtomicLong now = new AtomicLong(1_000_000_000L);
        Ticker ticker = now::get;
        AdaptiveScaler.Settings settings = AdaptiveScaler.Settings.defaults();
        long interval = settings.interval().toNanos();
        try (Pool<Object> pool = Pool.builder(new Plain()).name("simulated").ticker(ticker).periodicHousekeeping(false)
                .config(PoolConfig.builder().maxConnections(8).minIdle(0).validationBypassWindow(Duration.ZERO).build())
                .build()) {
            AdaptiveScaler scaler = new AdaptiveScaler(pool, settings, ticker);
            PrometheusMetrics metrics = new PrometheusMetrics().pool(pool).scaler(scaler);
            Map<String, Double> previous = new HashMap<>();
            long evaluations = Duration.ofHours(48).toNanos() / interval;
            int scrapes = 0;
            for (long i = 1; i <= evaluations; i++) {
                now.addAndGet(interval);
                // Some intervals busy (leases held while sampled), most idle: grow, shrink and hold all happen.
                List<Lease<Object>> held = new ArrayList<>();
                int busy = (int) (i % 7 == 0 ? Math.min(pool.maxConnections(), 4) : 0);
                for (int k = 0; k < busy; k++) {
                    held.add(pool.acquire().join());
                }
                scaler.sample();
                held.forEach(Lease::close);
                scaler.evaluate();
                if (i % 240 == 0) {
                    compare(previous, Exposition.scrape(metrics.registry()));
                    scrapes++;
                }
            }
            assertThat(evaluations).as("the scaler's 256-decision history wrapped many times").isGreaterThan(256 * 50);
            assertThat(scrapes).isGreaterThan(50);
            Map<String, Double> last = new HashMap<>();
            compare(last, Exposition.scrape(metrics.registry()));
            double decisions = last.entrySet().stream().filter(e -> e.getKey().startsWith("sluice_scaler_decisions"))
                    .mapToDouble(Map.Entry::getValue).sum();
            assertThat(decisions).as("every decision counted, not the last 256").isEqualTo((double) evaluations);
        }
    }

    /** Records every counter value and histogram count, failing if one is below its previous value. */
    private static void compare(Map<String, Double> previous, List<Metrics.MetricFamily> scrape) {
        for (Metrics.MetricFamily f : scrape) {
            for (Metrics.Metric m : f.getMetricList()) {
                double v;
                if (f.getType() == Metrics.MetricType.COUNTER) {
                    v = m.getCounter().getValue();
                } else if (f.getType() == Metrics.MetricType.HISTOGRAM) {
                    v = m.getHistogram().getSampleCount();
                } else {
                    continue;
                }
                String key = f.getName() + Exposition.labels(m);
                Double before = previous.put(key, v);
                if (before != null) {
                    assertThat(v).as(key + " never decreases").isGreaterThanOrEqualTo(before);
                }
            }
        }
    }
}

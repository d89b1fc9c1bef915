package io.sluice.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sluice.pool.ConnectionManager;
import io.sluice.pool.Lease;
import io.sluice.pool.Pool;
import io.sluice.pool.PoolConfig;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SluicePoolMetricsTest {

    /** Plain objects as connections, capacity 1. */
    static final class Plain implements ConnectionManager<Object> {
        @Override public CompletionStage<Object> connect(io.sluice.pool.ConnectionEvents<Object> events) { return CompletableFuture.completedFuture(new Object()); }
        @Override public CompletionStage<Void> validate(Object c) { return CompletableFuture.completedFuture(null); }
        @Override public boolean hasBroken(Object c) { return false; }
        @Override public int capacity(Object c) { return 1; }
        @Override public void close(Object c) { }
    }

    private static Pool<Object> pool(String name) {
        return Pool.builder(new Plain()).name(name).periodicHousekeeping(false)
                .config(PoolConfig.builder().maxConnections(4).minIdle(0).validationBypassWindow(Duration.ZERO).build())
                .build();
    }

    @Test
    void registersPoolMetersWithPoolAndRouteTagsAndScrapesKnownActivity() throws Exception {
        try (Pool<Object> a = pool("openai"); Pool<Object> b = pool("anthropic")) {
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            SluicePoolMetrics metrics = new SluicePoolMetrics().add(a, "https://api.openai.com:443");
            metrics.bindTo(registry);
            metrics.add(b, "https://api.anthropic.com:443"); // added after binding: still registered

            Lease<Object> l1 = a.acquire().join();
            Lease<Object> l2 = a.acquire().join();
            l2.invalidate();
            Lease<Object> l3 = b.acquire().join();
            l3.close();
            Thread.sleep(TimeUnit.NANOSECONDS.toMillis(SluicePoolMetrics.SNAPSHOT_TTL_NANOS) + 50);

            assertThat(registry.get("sluice.pool.active").tag("pool", "openai").gauge().value()).isEqualTo(1.0);
            assertThat(registry.get("sluice.pool.connections.created").tag("route", "https://api.openai.com:443")
                    .functionCounter().count()).isEqualTo(2.0);
            assertThat(registry.get("sluice.pool.connections.closed").tags("pool", "openai", "reason", "invalidated")
                    .functionCounter().count()).isEqualTo(1.0);
            assertThat(registry.get("sluice.pool.connect.attempts").tag("route", "https://api.openai.com:443")
                    .functionCounter().count()).isEqualTo(2.0);
            assertThat(registry.get("sluice.pool.connect.backoffs").tag("pool", "openai")
                    .functionCounter().count()).isZero();
            assertThat(registry.get("sluice.pool.connections.idle").tag("pool", "anthropic").gauge().value()).isEqualTo(1.0);
            FunctionTimer wait = registry.get("sluice.pool.acquire.wait").tag("pool", "openai").functionTimer();
            assertThat(wait.count()).isEqualTo(2.0);

            String scrape = registry.scrape();
            assertThat(scrape).contains("sluice_pool_active{pool=\"openai\",route=\"https://api.openai.com:443\"} 1.0")
                    .contains("sluice_pool_acquisitions_total{pool=\"anthropic\",route=\"https://api.anthropic.com:443\"} 1.0")
                    .contains("sluice_pool_acquire_wait_seconds_count{pool=\"openai\"");
            l1.close();
        }
    }
}

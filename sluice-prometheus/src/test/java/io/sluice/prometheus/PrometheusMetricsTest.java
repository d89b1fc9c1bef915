package io.sluice.prometheus;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.pool.health.HealthMonitor;
import io.sluice.http.HttpHealthProbe;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.Route;
import io.sluice.http.TlsOptions;
import io.sluice.pool.AdaptiveScaler;
import io.sluice.pool.PoolConfig;
import io.sluice.pool.PoolScheduler;
import io.sluice.pool.Ticker;
import io.sluice.routing.RegionRouter;
import io.sluice.testkit.MockProvider;
import io.sluice.websocket.WebSocketLease;
import io.sluice.websocket.WebSocketPool;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class PrometheusMetricsTest {

    private static final Pattern SAMPLE = Pattern.compile(
            "[a-zA-Z_:][a-zA-Z0-9_:]*\\{(?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\",?)*\\} -?[0-9.eE+-]+");

    @Test
    void scrapeCoversPoolsTlsHealthScalerAndRegionsWithTheirActivity() throws Exception {
        ScheduledExecutorService scheduler = PoolScheduler.newScheduler("metrics-test");
        try (MockProvider mock = MockProvider.start();
             ConnectionPoolManager client = ConnectionPoolManager.builder()
                     .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build())
                     .poolConfig(PoolConfig.builder().minIdle(0).build()).build();
             WebSocketPool ws = WebSocketPool.builder(URI.create(mock.wsUri() + "?api_key=sk-secret"))
                     .poolConfig(PoolConfig.builder().minIdle(0).build()).build()) {
            URI base = mock.httpsUri();
            for (int i = 0; i < 3; i++) {
                client.send(HttpRequest.newBuilder(base.resolve("/v1/models")).GET()
                        .header("authorization", "Bearer sk-test").build()).get(10, TimeUnit.SECONDS);
            }
            try (WebSocketLease lease = ws.acquire().get(10, TimeUnit.SECONDS)) {
                lease.receive().get(10, TimeUnit.SECONDS); // session.created
            }
            Route route = Route.of(base);
            HealthMonitor health = new HealthMonitor(HealthMonitor.Settings.defaults(), scheduler, Ticker.system(),
                    Clock.systemUTC());
            health.register(route.toString(), client.pool(route), HttpHealthProbe.generate204(client, base, Duration.ofSeconds(2)));
            assertThat(health.checkNow(route.toString()).get(10, TimeUnit.SECONDS).healthy()).isTrue();
            AdaptiveScaler scaler = new AdaptiveScaler(client.pool(route), AdaptiveScaler.Settings.defaults(), Ticker.system());
            scaler.evaluate();
            Map<String, URI> regions = new LinkedHashMap<>();
            regions.put("us-east-1", base);
            RegionRouter router = new RegionRouter(client, regions, RegionRouter.Settings.defaults(), scheduler,
                    Ticker.system(), Clock.systemUTC());
            router.probeAll().get(10, TimeUnit.SECONDS);

            mock.goAwayAll(); // passive detection counts it by reason
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> client.counters(route).connectionsBroken().getOrDefault("goaway", 0L) == 1L);
            String text = new PrometheusMetrics().client(client).webSocket(ws).health(health).scaler(scaler)
                    .router(router).scrape();

            String pool = "pool=\"" + route + "\"";
            assertThat(text).contains("connection_pool_total{" + pool + "} 1\n")
                    .contains("connection_pool_acquisitions_total{" + pool + "}")
                    .contains("sluice_tls_handshakes_total{kind=\"full\"} 1\n")
                    .contains("sluice_health_up{" + pool + "} 1\n")
                    .contains("sluice_health_success_ratio{" + pool + "} 1\n")
                    .contains("sluice_scaler_decisions_total{" + pool + ",action=\"shrink\"} 1\n")
                    .contains("sluice_region_latency_seconds{region=\"us-east-1\"}")
                    .contains("sluice_connections_broken_total{" + pool + ",reason=\"goaway\"} 1\n")
                    .contains("sluice_route_ejected{" + pool + "} 0\n")
                    .contains("sluice_region_cooldown_seconds{region=\"us-east-1\"} 0\n")
                    .contains("connection_pool_total{pool=\"" + ws.stats().name() + "\"} 1\n");
            assertThat(text).as("no secret in labels").doesNotContain("sk-secret").doesNotContain("sk-test");
            for (String line : text.split("\n")) {
                if (line.startsWith("#")) {
                    assertThat(line).matches("# (HELP|TYPE) [a-z_]+ .+");
                } else {
                    assertThat(SAMPLE.matcher(line).matches()).as(line).isTrue();
                }
            }
        } finally {
            scheduler.shutdownNow();
        }
    }

    @Test
    void scalerDecisionCountsNeverGoDownOnceTheBoundedHistoryIsFull() {
        io.sluice.pool.ConnectionManager<Object> objects = new io.sluice.pool.ConnectionManager<>() {
            @Override
            public java.util.concurrent.CompletionStage<Object> connect(io.sluice.pool.ConnectionEvents<Object> events) {
                return java.util.concurrent.CompletableFuture.completedFuture(new Object());
            }

            @Override
            public java.util.concurrent.CompletionStage<Void> validate(Object c) {
                return java.util.concurrent.CompletableFuture.completedFuture(null);
            }

            @Override
            public boolean hasBroken(Object c) {
                return false;
            }

            @Override
            public int capacity(Object c) {
                return 1;
            }

            @Override
            public void close(Object c) {
            }
        };
        ScheduledExecutorService scheduler = PoolScheduler.newScheduler("metrics-scaler");
        try (io.sluice.pool.Pool<Object> pool = io.sluice.pool.Pool.builder(objects).name("scaled").scheduler(scheduler)
                .config(PoolConfig.builder().maxConnections(10).minIdle(0).build()).build()) {
            AdaptiveScaler scaler = new AdaptiveScaler(pool, AdaptiveScaler.Settings.defaults(), Ticker.system());
            PrometheusMetrics metrics = new PrometheusMetrics().scaler(scaler);
            for (int i = 0; i < 300; i++) {
                scaler.evaluate(); // idle at the lower bound: HOLD
            }
            assertThat(metrics.scrape()).contains("sluice_scaler_decisions_total{pool=\"scaled\",action=\"hold\"} 300\n");
            scaler.evaluate();
            assertThat(metrics.scrape()).contains("sluice_scaler_decisions_total{pool=\"scaled\",action=\"hold\"} 301\n");
        } finally {
            scheduler.shutdownNow();
        }
    }
}

package io.sluice.micrometer;

import static io.sluice.micrometer.Exposition.labels;
import static io.sluice.micrometer.Exposition.samples;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_36_2.Metrics;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.Route;
import io.sluice.http.TlsOptions;
import io.sluice.pool.AdaptiveScaler;
import io.sluice.pool.PoolConfig;
import io.sluice.pool.Ticker;
import io.sluice.testkit.MockProvider;
import io.sluice.websocket.WebSocketLease;
import io.sluice.websocket.WebSocketPool;
import java.net.URI;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Micrometer binding rendered by Micrometer's own Prometheus registry, read back from the Prometheus
 * protobuf format with the Prometheus client's generated classes: the same names, types and labels as
 * docs/metrics.md (and so as sluice-prometheus), and figures that match real calls to the mock provider.
 */
@Timeout(60)
class SluiceMetersTest {

    @Test
    void stateMetersSurviveAGarbageCollection() throws Exception {
        // Micrometer's gauges and function counters hold their state object weakly unless told otherwise: a
        // snapshot object nobody else references was collected and the gauge read NaN (seen in a Spring Boot run).
        io.micrometer.core.instrument.simple.SimpleMeterRegistry registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        SluiceMeters meters = new SluiceMeters(registry);
        try (MockProvider mock = MockProvider.start();
             ConnectionPoolManager client = meters.instrument(ConnectionPoolManager.builder()
                     .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build())
                     .poolConfig(PoolConfig.builder().minIdle(0).build())).build()) {
            assertThat(client.send(HttpRequest.newBuilder(mock.httpsUri().resolve("/v1/models")).GET().build())
                    .get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            meters.client(client);
            for (int i = 0; i < 3; i++) {
                System.gc();
            }
            String pool = Route.of(mock.httpsUri()).toString();
            assertThat(registry.get("sluice.pool.connections.open").tag("pool", pool).gauge().value()).isEqualTo(1.0);
            assertThat(registry.get("sluice.pool.acquisitions").tag("pool", pool).functionCounter().count()).isEqualTo(1.0);
            assertThat(registry.get("sluice.route.ejected").gauge().value()).isZero();
        }
    }

    @Test
    void aWholeClientIsBoundIncludingRoutesOpenedLaterWithTheDocumentedNames() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        SluiceMeters meters = new SluiceMeters(registry);
        try (MockProvider mock = MockProvider.start();
             ConnectionPoolManager client = meters.instrument(ConnectionPoolManager.builder()
                     .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build())
                     .poolConfig(PoolConfig.builder().minIdle(0).build()).statusRetries(false)).build();
             WebSocketPool ws = WebSocketPool.builder(URI.create(mock.wsUri() + "?api_key=sk-secret"))
                     .poolConfig(PoolConfig.builder().minIdle(0).build()).build()) {
            meters.client(client); // no route yet: the one the calls open is registered when they start
            URI models = mock.httpsUri().resolve("/v1/models");
            for (int i = 0; i < 3; i++) {
                assertThat(client.send(HttpRequest.newBuilder(URI.create(models + "?page=" + i)).GET().build())
                        .get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            }
            assertThat(client.send(HttpRequest.newBuilder(models).GET().header("x-mock-status", "429").build())
                    .get(10, TimeUnit.SECONDS).status()).isEqualTo(429);
            client.send(HttpRequest.newBuilder(mock.httpsUri().resolve("/v1/chat/completions"))
                    .POST("{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                    .build()).get(10, TimeUnit.SECONDS);
            try (WebSocketLease lease = ws.acquire().get(10, TimeUnit.SECONDS)) {
                lease.receive().get(10, TimeUnit.SECONDS);
            }
            Route route = Route.of(mock.httpsUri());
            AdaptiveScaler scaler = new AdaptiveScaler(client.pool(route), AdaptiveScaler.Settings.defaults(), Ticker.system());
            scaler.evaluate();
            meters.webSocket(ws).scaler(scaler);
            String pool = route.toString();

            // callEnd may run just after a call's future completed: wait until the fifth call is in the meters.
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> registry.find("sluice.http.client.requests")
                    .counters().stream().mapToDouble(c -> c.count()).sum() >= 5);
            Thread.sleep(TimeUnit.NANOSECONDS.toMillis(SluiceMeters.SNAPSHOT_TTL_NANOS) + 50); // a fresh pool snapshot
            List<Metrics.MetricFamily> scrape = Exposition.scrape(registry.getPrometheusRegistry());

            Map<String, Exposition.Documented> doc = Exposition.documented();
            Set<String> seen = new HashSet<>();
            for (Metrics.MetricFamily f : scrape) {
                String name = f.getType() == Metrics.MetricType.COUNTER && !f.getName().endsWith("_total")
                        ? f.getName() + "_total" : f.getName();
                if (name.endsWith("_max") && f.getType() == Metrics.MetricType.GAUGE) {
                    continue; // Micrometer's own maximum gauge beside each timer (docs/metrics.md says so)
                }
                seen.add(name);
                assertThat(doc).as("docs/metrics.md lists " + name).containsKey(name);
                assertThat(f.getType().name().toLowerCase()).as(name + " type").isEqualTo(doc.get(name).type());
                for (Metrics.Metric m : f.getMetricList()) {
                    assertThat(labels(m).keySet()).as(name + " labels")
                            .containsExactlyInAnyOrderElementsOf(doc.get(name).labels());
                }
            }
            Set<String> expected = new TreeSet<>(doc.keySet());
            // Not bound or not happened here: health, regions, and the counters of failures, replays, retries.
            expected.removeAll(Set.of("sluice_http_client_failures_total", "sluice_http_client_replays_total",
                    "sluice_http_client_status_retries_total", "sluice_health_up", "sluice_health_consecutive_failures",
                    "sluice_health_success_ratio", "sluice_health_latency_seconds", "sluice_region_latency_seconds",
                    "sluice_region_cooldown_seconds"));
            expected.removeIf(n -> n.startsWith("sluice_ratelimit_")); // with a bound limiter: RateLimitMetersTest
            assertThat(seen).as("the same names as the Prometheus module").containsAll(expected);

            assertThat(single(samples(scrape, "sluice_http_client_request_duration_seconds", "route", pool, "status", "2xx",
                    "method", "GET")).getHistogram().getSampleCount()).isEqualTo(3);
            assertThat(single(samples(scrape, "sluice_http_client_requests_total", "route", pool, "status", "429"))
                    .getCounter().getValue()).isEqualTo(1.0);
            assertThat(single(samples(scrape, "connection_pool_wait_time_seconds", "pool", pool)).getHistogram()
                    .getBucketCount()).as("a histogram with buckets").isGreaterThan(10);
            assertThat(single(samples(scrape, "connection_pool_total", "pool", pool)).getCounter().getValue()).isEqualTo(1.0);
            assertThat(single(samples(scrape, "sluice_pool_connections_open", "pool", pool)).getGauge().getValue())
                    .isEqualTo(1.0);
            assertThat(single(samples(scrape, "connection_pool_total", "pool", ws.stats().name())).getCounter().getValue())
                    .isEqualTo(1.0);
            assertThat(single(samples(scrape, "sluice_scaler_decisions_total", "pool", pool, "action", "shrink"))
                    .getCounter().getValue()).isEqualTo(1.0);
            Set<String> routes = new TreeSet<>();
            scrape.forEach(f -> f.getMetricList().forEach(m -> {
                if (labels(m).containsKey("route")) {
                    routes.add(labels(m).get("route"));
                }
            }));
            assertThat(routes).as("URLs never become labels").containsExactly(pool);
            assertThat(registry.scrape()).contains("# TYPE connection_pool_wait_time_seconds histogram")
                    .contains("# TYPE connection_pool_total counter").contains("# TYPE connection_pool_active gauge")
                    .doesNotContain("sk-secret");
        }
    }

    static Metrics.Metric single(List<Metrics.Metric> ms) {
        assertThat(ms).hasSize(1);
        return ms.get(0);
    }
}

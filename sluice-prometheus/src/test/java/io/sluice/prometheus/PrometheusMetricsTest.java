package io.sluice.prometheus;

import static io.sluice.prometheus.Exposition.family;
import static io.sluice.prometheus.Exposition.labels;
import static io.sluice.prometheus.Exposition.samples;
import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_36_2.Metrics;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpHealthProbe;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.Route;
import io.sluice.http.TlsOptions;
import io.sluice.pool.AdaptiveScaler;
import io.sluice.pool.PoolConfig;
import io.sluice.pool.PoolScheduler;
import io.sluice.pool.Ticker;
import io.sluice.pool.health.HealthMonitor;
import io.sluice.routing.RegionRouter;
import io.sluice.testkit.MockProvider;
import io.sluice.websocket.WebSocketLease;
import io.sluice.websocket.WebSocketPool;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class PrometheusMetricsTest {

    private static ConnectionPoolManager.Builder clientFor(MockProvider mock) {
        return ConnectionPoolManager.builder()
                .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build())
                .poolConfig(PoolConfig.builder().minIdle(0).build())
                .statusRetries(false); // a 429 goes to the caller, so the test knows what it counts
    }

    private static HttpRequest get(URI uri) {
        return HttpRequest.newBuilder(uri).GET().header("authorization", "Bearer sk-test").build();
    }

    @Test
    void threeCallsCountThreeAnd429IsCountedUnderItsStatus() throws Exception {
        PrometheusMetrics metrics = new PrometheusMetrics();
        try (MockProvider mock = MockProvider.start();
             ConnectionPoolManager client = metrics.instrument(clientFor(mock)).build()) {
            metrics.client(client);
            URI models = mock.httpsUri().resolve("/v1/models");
            for (int i = 0; i < 3; i++) {
                assertThat(client.send(get(models)).get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            }
            HttpResponse limited = client.send(HttpRequest.newBuilder(models).GET().header("x-mock-status", "429").build())
                    .get(10, TimeUnit.SECONDS);
            assertThat(limited.status()).isEqualTo(429);
            String route = Route.of(mock.httpsUri()).toString();

            List<Metrics.MetricFamily> scrape = scrapeAfter(metrics, 4);
            Metrics.Metric ok = single(samples(scrape, "sluice_http_client_request_duration_seconds",
                    "route", route, "status", "2xx"));
            assertThat(ok.getHistogram().getSampleCount()).isEqualTo(3);
            assertThat(labels(ok)).containsEntry("method", "GET").containsEntry("protocol", "h2");
            assertThat(ok.getHistogram().getBucketCount()).as("classic buckets").isGreaterThan(10);
            assertThat(ok.getHistogram().getPositiveSpanCount()).as("native buckets").isPositive();
            assertThat(ok.getHistogram().getSchema()).as("native schema").isBetween(-4, 8);
            assertThat(single(samples(scrape, requestsName(scrape), "route", route, "status", "2xx")).getCounter().getValue())
                    .isEqualTo(3.0);
            assertThat(single(samples(scrape, requestsName(scrape), "route", route, "status", "429")).getCounter().getValue())
                    .isEqualTo(1.0);
            assertThat(single(samples(scrape, "sluice_http_client_time_to_headers_seconds", "route", route))
                    .getHistogram().getSampleCount()).isEqualTo(4);
            assertThat(single(samples(scrape, "sluice_pool_acquire_wait_seconds", "pool", route))
                    .getHistogram().getSampleCount()).isEqualTo(4);
            assertThat(single(samples(scrape, "connection_pool_wait_time_seconds", "pool", route))
                    .getHistogram().getSampleCount()).isEqualTo(4);
            assertThat(family(scrape, "connection_pool_wait_time_seconds").getType()).isEqualTo(Metrics.MetricType.HISTOGRAM);
            assertThat(single(samples(scrape, "sluice_connection_tls_handshake_duration_seconds", "route", route,
                    "resumed", "false")).getHistogram().getSampleCount()).isEqualTo(1);
            assertThat(single(samples(scrape, "sluice_connection_connect_duration_seconds", "route", route))
                    .getHistogram().getSampleCount()).isEqualTo(1);
            assertThat(single(samples(scrape, counterName(scrape, "connection_pool"), "pool", route)).getCounter().getValue())
                    .isEqualTo(1.0);
            assertThat(family(scrape, "connection_pool_active").getType()).isEqualTo(Metrics.MetricType.GAUGE);
            assertThat(single(samples(scrape, counterName(scrape, "sluice_http_client_response_body_bytes"), "route", route))
                    .getCounter().getValue()).isPositive();

            // The text format written by the client library carries the standard names with their types.
            String text = metrics.scrape();
            assertThat(text).contains("# TYPE connection_pool_total counter\n")
                    .contains("# TYPE connection_pool_active gauge\n")
                    .contains("# TYPE connection_pool_wait_time_seconds histogram\n")
                    .contains("connection_pool_wait_time_seconds_bucket{pool=\"" + route + "\",le=\"+Inf\"} 4\n")
                    .contains("connection_pool_wait_time_seconds_count{pool=\"" + route + "\"} 4\n")
                    .contains("connection_pool_wait_time_seconds_sum{pool=\"" + route + "\"} ")
                    .doesNotContain("quantile").doesNotContain("sk-test");
        }
    }

    @Test
    void failuresAreCountedByPhaseAndKind() throws Exception {
        PrometheusMetrics metrics = new PrometheusMetrics();
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        try (ConnectionPoolManager client = metrics.instrument(ConnectionPoolManager.builder()
                .poolConfig(PoolConfig.builder().minIdle(0).maxRetries(0).build())).build()) {
            URI refused = URI.create("http://127.0.0.1:" + closedPort + "/v1/models");
            assertThat(client.send(get(refused))).failsWithin(Duration.ofSeconds(10));
            String route = Route.of(refused).toString();
            List<Metrics.MetricFamily> scrape = scrapeAfter(metrics, 1);
            assertThat(single(samples(scrape, counterName(scrape, "sluice_http_client_failures"), "route", route,
                    "phase", "acquire", "kind", "connect_failed")).getCounter().getValue()).isEqualTo(1.0);
            assertThat(single(samples(scrape, requestsName(scrape), "route", route, "status", "failed", "protocol", "none"))
                    .getCounter().getValue()).isEqualTo(1.0);
        }
    }

    @Test
    void statusRetriesAreCountedByStatus() throws Exception {
        PrometheusMetrics metrics = new PrometheusMetrics();
        try (MockProvider mock = MockProvider.start();
             ConnectionPoolManager client = metrics.instrument(clientFor(mock).statusRetries(true)).build()) {
            URI models = mock.httpsUri().resolve("/v1/models");
            HttpResponse r = client.send(HttpRequest.newBuilder(models).GET().header("x-mock-status", "529")
                    .header("x-mock-retry-after-ms", "1").build()).get(20, TimeUnit.SECONDS);
            assertThat(r.status()).isEqualTo(529);
            String route = Route.of(mock.httpsUri()).toString();
            List<Metrics.MetricFamily> scrape = scrapeAfter(metrics, 1);
            double retries = single(samples(scrape, counterName(scrape, "sluice_http_client_status_retries"), "route", route,
                    "status", "529")).getCounter().getValue();
            assertThat(retries).isPositive();
            assertThat(single(samples(scrape, requestsName(scrape), "route", route, "status", "529")).getCounter().getValue())
                    .as("one call, however many attempts").isEqualTo(1.0);
            assertThat(single(samples(scrape, "sluice_http_client_time_to_headers_seconds", "route", route))
                    .getHistogram().getSampleCount()).as("only the head the caller got").isEqualTo(1);
        }
    }

    @Test
    void hundredDistinctUrlsOnOneRouteAreOneRouteLabel() throws Exception {
        PrometheusMetrics metrics = new PrometheusMetrics();
        try (MockProvider mock = MockProvider.start();
             ConnectionPoolManager client = metrics.instrument(clientFor(mock)).build()) {
            metrics.client(client);
            for (int i = 0; i < 100; i++) {
                client.send(get(mock.httpsUri().resolve("/v1/models?page=" + i + "&request_id=req-" + i)))
                        .get(10, TimeUnit.SECONDS);
            }
            List<Metrics.MetricFamily> scrape = scrapeAfter(metrics, 100);
            Set<String> routes = new TreeSet<>();
            int series = 0;
            for (Metrics.MetricFamily f : scrape) {
                for (Metrics.Metric m : f.getMetricList()) {
                    series++;
                    Map<String, String> l = labels(m);
                    if (l.containsKey("route")) {
                        routes.add(l.get("route"));
                    }
                    assertThat(l.values()).noneMatch(v -> v.contains("page=") || v.contains("req-") || v.contains("/v1/"));
                }
            }
            assertThat(routes).containsExactly(Route.of(mock.httpsUri()).toString());
            assertThat(series).as("series do not grow with the calls").isLessThan(100);
            assertThat(single(samples(scrape, requestsName(scrape), "status", "2xx")).getCounter().getValue()).isEqualTo(100.0);
        }
    }

    @Test
    void everyExportedFamilyIsDocumentedWithItsTypeAndLabels() throws Exception {
        ScheduledExecutorService scheduler = PoolScheduler.newScheduler("metrics-test");
        PrometheusMetrics metrics = new PrometheusMetrics();
        try (MockProvider mock = MockProvider.start();
             ConnectionPoolManager client = metrics.instrument(clientFor(mock)).build();
             WebSocketPool ws = WebSocketPool.builder(URI.create(mock.wsUri() + "?api_key=sk-secret"))
                     .poolConfig(PoolConfig.builder().minIdle(0).build()).build()) {
            URI base = mock.httpsUri();
            metrics.client(client); // bound before any route exists: the route opened below still shows
            client.send(get(base.resolve("/v1/models"))).get(10, TimeUnit.SECONDS);
            client.send(HttpRequest.newBuilder(base.resolve("/v1/chat/completions"))
                    .POST("{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                    .header("authorization", "Bearer sk-test").build()).get(10, TimeUnit.SECONDS);
            scrapeAfter(metrics, 2); // both calls ended in the metrics before the probes below add their own
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
            metrics.webSocket(ws).health(health).scaler(scaler).router(router);

            List<Metrics.MetricFamily> scrape = scrapeAfter(metrics, 2);
            Map<String, Exposition.Documented> doc = Exposition.documented();
            Set<String> seen = new HashSet<>();
            for (Metrics.MetricFamily f : scrape) {
                String name = f.getType() == Metrics.MetricType.COUNTER && !f.getName().endsWith("_total")
                        ? f.getName() + "_total" : f.getName();
                seen.add(name);
                assertThat(name).as("one prefix, or a standard name").matches("(sluice_|connection_pool_)[a-z_]+");
                assertThat(doc).as("docs/metrics.md lists " + name).containsKey(name);
                assertThat(f.getType().name().toLowerCase()).as(name + " type").isEqualTo(doc.get(name).type());
                for (Metrics.Metric m : f.getMetricList()) {
                    assertThat(labels(m).keySet()).as(name + " labels").containsExactlyInAnyOrderElementsOf(doc.get(name).labels());
                }
            }
            // A family with no sample yet is not in the exposition: these three need a failure, a replay or a
            // status retry, which failuresAreCountedByPhaseAndKind and statusRetriesAreCountedByStatus make.
            Set<String> expected = new TreeSet<>(doc.keySet());
            expected.removeAll(Set.of("sluice_http_client_failures_total", "sluice_http_client_replays_total",
                    "sluice_http_client_status_retries_total"));
            expected.removeIf(n -> n.startsWith("sluice_ratelimit_")); // with a bound limiter: RateLimitMetricsTest
            assertThat(seen).as("every documented metric is exported").containsAll(expected);

            String pool = route.toString();
            assertThat(single(samples(scrape, "sluice_health_up", "pool", pool)).getGauge().getValue()).isEqualTo(1.0);
            assertThat(single(samples(scrape, counterName(scrape, "sluice_scaler_decisions"), "pool", pool, "action", "shrink"))
                    .getCounter().getValue()).isEqualTo(1.0);
            assertThat(single(samples(scrape, counterName(scrape, "sluice_connections_broken"), "pool", pool, "reason", "goaway"))
                    .getCounter().getValue()).isEqualTo(1.0);
            assertThat(single(samples(scrape, "sluice_region_cooldown_seconds", "region", "us-east-1")).getGauge().getValue())
                    .isZero();
            assertThat(single(samples(scrape, "sluice_http_client_stream_duration_seconds", "route", pool))
                    .getHistogram().getSampleCount()).isEqualTo(1);
            assertThat(single(samples(scrape, counterName(scrape, "connection_pool"), "pool", ws.stats().name()))
                    .getCounter().getValue()).isEqualTo(1.0);
            assertThat(metrics.scrape()).as("no secret in labels").doesNotContain("sk-secret").doesNotContain("sk-test");
        } finally {
            scheduler.shutdownNow();
        }
    }

    /**
     * Waits until {@code n} calls have ended in the metrics. A call's future may complete just before its
     * listener hears {@code callEnd} (the event runs after the body's end on the event loop), so a scrape
     * right after {@code get()} could miss the last call.
     */
    static List<Metrics.MetricFamily> scrapeAfter(PrometheusMetrics metrics, int n) {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
            List<Metrics.MetricFamily> scrape = Exposition.scrape(metrics.registry());
            return Exposition.names(scrape).stream().anyMatch(x -> x.startsWith("sluice_http_client_requests"))
                    && samples(scrape, requestsName(scrape)).stream().mapToDouble(m -> m.getCounter().getValue()).sum() >= n;
        });
        return Exposition.scrape(metrics.registry());
    }

    static Metrics.Metric single(List<Metrics.Metric> ms) {
        assertThat(ms).hasSize(1);
        return ms.get(0);
    }

    /** The counter family's name as the protobuf format spells it (with or without _total). */
    static String counterName(List<Metrics.MetricFamily> scrape, String base) {
        return Exposition.names(scrape).contains(base + "_total") ? base + "_total" : base;
    }

    private static String requestsName(List<Metrics.MetricFamily> scrape) {
        return counterName(scrape, "sluice_http_client_requests");
    }
}

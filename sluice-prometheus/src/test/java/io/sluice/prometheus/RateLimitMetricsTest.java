package io.sluice.prometheus;

import static io.sluice.prometheus.Exposition.labels;
import static io.sluice.prometheus.Exposition.samples;
import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_36_2.Metrics;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.TlsOptions;
import io.sluice.pool.PoolConfig;
import io.sluice.ratelimit.RateLimiter;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A bound rate limiter's series against the mock provider enforcing 5 requests per 10 s: after the budget was
 * announced and spent, refusals are counted, the route's budget shows what is left, and every series is in
 * docs/metrics.md with its type and labels (read back with the Prometheus client's own protobuf classes).
 */
@Timeout(60)
class RateLimitMetricsTest {

    @Test
    void aBoundLimitersSeriesAreTheAdmissionsAndRefusalsItMade() throws Exception {
        PrometheusMetrics metrics = new PrometheusMetrics();
        try (MockProvider mock = MockProvider.start(MockOptions.builder().enforceRateLimits(true).rateLimitRequests(5)
                     .rateLimitWindow(Duration.ofSeconds(10)).build());
             RateLimiter limits = RateLimiter.builder().mode(RateLimiter.Mode.FAIL).build();
             ConnectionPoolManager client = limits.instrument(metrics.instrument(ConnectionPoolManager.builder()
                     .statusRetries(false).poolConfig(PoolConfig.builder().minIdle(0).build())
                     .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build()))).build()) {
            metrics.client(client).rateLimiter(limits);
            int refused = 0;
            for (int i = 0; i < 8; i++) { // one at a time: the first announces 4 left, the next 4 spend it
                CompletableFuture<HttpResponse> f = client.send(HttpRequest.newBuilder(mock.httpsUri().resolve("/v1/chat/completions"))
                        .header("authorization", "Bearer sk-metrics-key").header("content-type", "application/json")
                        .POST("{\"model\":\"m\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                        .build());
                try {
                    assertThat(f.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
                } catch (ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(io.sluice.http.RateLimitedException.class);
                    refused++;
                }
            }
            assertThat(refused).isEqualTo(3);
            List<Metrics.MetricFamily> scrape = Exposition.scrape(metrics.registry());
            assertThat(samples(scrape, "sluice_ratelimit_rejected_total").get(0).getCounter().getValue()).isEqualTo(3);
            assertThat(samples(scrape, "sluice_ratelimit_admitted_total", "how", "at_once").get(0).getCounter().getValue())
                    .isEqualTo(5);
            assertThat(samples(scrape, "sluice_ratelimit_too_many_requests_total").get(0).getCounter().getValue()).isZero();
            String route = io.sluice.http.Route.of(mock.httpsUri()).toString();
            assertThat(samples(scrape, "sluice_ratelimit_requests_available", "route", route).get(0).getGauge().getValue())
                    .isLessThan(1);
            assertThat(samples(scrape, "sluice_ratelimit_waiting", "route", route).get(0).getGauge().getValue()).isZero();
            assertThat(scrape.toString()).doesNotContain("sk-metrics-key");

            Map<String, Exposition.Documented> doc = Exposition.documented();
            List<String> seen = new ArrayList<>();
            for (Metrics.MetricFamily f : scrape) {
                if (!f.getName().startsWith("sluice_ratelimit_")) {
                    continue;
                }
                String name = f.getType() == Metrics.MetricType.COUNTER && !f.getName().endsWith("_total")
                        ? f.getName() + "_total" : f.getName();
                seen.add(name);
                assertThat(doc).as("docs/metrics.md lists " + name).containsKey(name);
                assertThat(f.getType().name().toLowerCase()).as(name + " type").isEqualTo(doc.get(name).type());
                for (Metrics.Metric m : f.getMetricList()) {
                    assertThat(labels(m).keySet()).as(name + " labels")
                            .containsExactlyInAnyOrderElementsOf(doc.get(name).labels());
                }
            }
            assertThat(seen).containsExactlyInAnyOrderElementsOf(doc.keySet().stream()
                    .filter(n -> n.startsWith("sluice_ratelimit_")).toList());
        }
    }
}

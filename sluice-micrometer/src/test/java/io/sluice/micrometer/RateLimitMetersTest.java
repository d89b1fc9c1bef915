package io.sluice.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.RateLimitedException;
import io.sluice.http.Route;
import io.sluice.http.TlsOptions;
import io.sluice.pool.PoolConfig;
import io.sluice.ratelimit.RateLimiter;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A bound rate limiter's meters against the mock enforcing 5 requests per 10 s: refusals, admissions and the
 * route's budget (registered when the instrumented client's first call opened the route), after a GC too.
 */
@Timeout(60)
class RateLimitMetersTest {

    @Test
    void aBoundLimitersMetersAreItsAdmissionsRefusalsAndBudgets() throws Exception {
        io.micrometer.prometheusmetrics.PrometheusMeterRegistry registry = new io.micrometer.prometheusmetrics
                .PrometheusMeterRegistry(io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
        SluiceMeters meters = new SluiceMeters(registry);
        try (MockProvider mock = MockProvider.start(MockOptions.builder().enforceRateLimits(true).rateLimitRequests(5)
                     .rateLimitWindow(Duration.ofSeconds(10)).build());
             RateLimiter limits = RateLimiter.builder().mode(RateLimiter.Mode.FAIL).build();
             ConnectionPoolManager client = limits.instrument(meters.instrument(ConnectionPoolManager.builder()
                     .statusRetries(false).poolConfig(PoolConfig.builder().minIdle(0).build())
                     .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build()))).build()) {
            meters.client(client).rateLimiter(limits);
            int refused = 0;
            for (int i = 0; i < 8; i++) {
                try {
                    client.send(HttpRequest.newBuilder(mock.httpsUri().resolve("/v1/chat/completions"))
                            .header("authorization", "Bearer sk-meters-key").header("content-type", "application/json")
                            .POST("{\"model\":\"m\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                            .build()).get(10, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(RateLimitedException.class);
                    refused++;
                }
            }
            for (int i = 0; i < 3; i++) {
                System.gc();
            }
            assertThat(refused).isEqualTo(3);
            assertThat(registry.get("sluice.ratelimit.rejected").functionCounter().count()).isEqualTo(3);
            assertThat(registry.get("sluice.ratelimit.admitted").tag("how", "at_once").functionCounter().count())
                    .isEqualTo(5);
            String route = Route.of(mock.httpsUri()).toString();
            assertThat(registry.get("sluice.ratelimit.requests.available").tag("route", route).gauge().value())
                    .isLessThan(1);
            assertThat(registry.get("sluice.ratelimit.waiting").tag("route", route).gauge().value()).isZero();
            assertThat(registry.scrape()).doesNotContain("sk-meters-key");
            // The same names, types and labels as sluice-prometheus, read back from Micrometer's Prometheus registry.
            java.util.Map<String, Exposition.Documented> doc = Exposition.documented();
            java.util.Set<String> seen = new java.util.TreeSet<>();
            for (var f : Exposition.scrape(registry.getPrometheusRegistry())) {
                String name = f.getType().name().equals("COUNTER") && !f.getName().endsWith("_total")
                        ? f.getName() + "_total" : f.getName();
                if (!name.startsWith("sluice_ratelimit_")) {
                    continue;
                }
                seen.add(name);
                assertThat(doc).as("docs/metrics.md lists " + name).containsKey(name);
                assertThat(f.getType().name().toLowerCase()).as(name + " type").isEqualTo(doc.get(name).type());
                for (var m : f.getMetricList()) {
                    assertThat(Exposition.labels(m).keySet()).as(name + " labels")
                            .containsExactlyInAnyOrderElementsOf(doc.get(name).labels());
                }
            }
            assertThat(seen).containsExactlyInAnyOrderElementsOf(doc.keySet().stream()
                    .filter(n -> n.startsWith("sluice_ratelimit_")).toList());
        }
    }
}

package io.sluice.http.internal.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.pool.health.OutlierDetector;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.Route;
import io.sluice.http.RouteCounters;
import io.sluice.http.RouteUnavailableException;
import io.sluice.http.TlsOptions;
import io.sluice.pool.PoolConfig;
import io.sluice.testkit.MockBehavior;
import io.sluice.testkit.MockProvider;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class OutlierEjectionTest {

    private static ConnectionPoolManager client(MockProvider mock, OutlierDetector.Settings outliers) {
        return ConnectionPoolManager.builder()
                .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build())
                .poolConfig(PoolConfig.builder().minIdle(0).build())
                .statusRetries(false)
                .outlierDetection(outliers)
                .build();
    }

    private static HttpRequest models(MockProvider mock) {
        return HttpRequest.newBuilder(mock.httpsUri().resolve("/v1/models")).GET()
                .header("authorization", "Bearer sk-test").build();
    }

    @Test
    void fiveConsecutive5xxEjectTheRouteWhichFailsFastThenReturnsThroughOneProbe() throws Exception {
        OutlierDetector.Settings quick = new OutlierDetector.Settings(5, Duration.ofMillis(300), Duration.ofSeconds(300));
        try (MockProvider mock = MockProvider.start(); ConnectionPoolManager client = client(mock, quick)) {
            mock.behavior(MockBehavior.builder().status(500).build());
            for (int i = 0; i < 5; i++) {
                assertThat(client.send(models(mock)).get(10, TimeUnit.SECONDS).status()).isEqualTo(500);
            }
            assertThatThrownBy(() -> client.send(models(mock)).get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).cause().isInstanceOf(RouteUnavailableException.class)
                    .hasMessageContaining("route ejected").hasMessageContaining("next probe request is allowed in");
            assertThat(mock.stats().requests("/v1/models")).as("the ejected route got nothing").isEqualTo(5);
            Route route = Route.of(mock.httpsUri());
            RouteCounters c = client.counters(route);
            assertThat(c.ejected()).isTrue();
            assertThat(c.ejections()).isEqualTo(1);

            mock.behavior(MockBehavior.defaults()); // the upstream recovers
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).until(() -> {
                try {
                    return client.send(models(mock)).get(10, TimeUnit.SECONDS).status() == 200;
                } catch (ExecutionException e) {
                    return false; // still ejected
                }
            });
            assertThat(client.counters(route).ejected()).isFalse();
            assertThat(client.send(models(mock)).get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            assertThat(client.stats(route).leasesOut()).isZero();
        }
    }

    @Test
    void clientErrorsDoNotEject() throws Exception {
        try (MockProvider mock = MockProvider.start();
             ConnectionPoolManager client = client(mock, OutlierDetector.Settings.defaults())) {
            mock.behavior(MockBehavior.builder().status(429).build());
            for (int i = 0; i < 8; i++) {
                assertThat(client.send(models(mock)).get(10, TimeUnit.SECONDS).status()).isEqualTo(429);
            }
            assertThat(client.counters(Route.of(mock.httpsUri())).ejected()).isFalse();
        }
    }

    @Test
    void passiveDetectionCountsGoAwayAndPeerCloseByReason() throws Exception {
        try (MockProvider mock = MockProvider.start();
             ConnectionPoolManager client = client(mock, OutlierDetector.Settings.defaults())) {
            Route route = Route.of(mock.httpsUri());
            client.send(models(mock)).get(10, TimeUnit.SECONDS);
            mock.goAwayAll();
            await().atMost(Duration.ofSeconds(5)).until(() -> client.counters(route).connectionsBroken()
                    .getOrDefault("goaway", 0L) == 1L);
            client.send(models(mock)).get(10, TimeUnit.SECONDS);
            mock.killConnections();
            await().atMost(Duration.ofSeconds(5)).until(() -> client.counters(route).connectionsBroken()
                    .getOrDefault("closed", 0L) == 1L);
            assertThat(client.send(models(mock)).get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            assertThat(client.stats(route).leasesOut()).isZero();
        }
    }
}

package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.pool.CloseReason;
import io.sluice.pool.PoolConfig;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The two timers that retire idle connections before they fail a request: the HTTP/2 PING timeout and Keep-Alive. */
class LivenessTimersTest {

    private static HttpRequest ping(URI base) {
        return HttpRequest.newBuilder(base.resolve("/ping")).GET().build();
    }

    @Test
    void anUnansweredKeepalivePingMarksTheConnectionBrokenAndTheNextRequestGetsAFreshOne() throws Exception {
        try (MockProvider mock = MockProvider.start();
             ConnectionPoolManager client = ConnectionPoolManager.builder()
                     .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build())
                     .http2(Http2Settings.defaults().withPing(Duration.ofMillis(150), Duration.ofMillis(150)))
                     .poolConfig(PoolConfig.builder().minIdle(0).build()).build()) {
            Route route = Route.of(mock.httpsUri());
            assertThat(client.send(ping(mock.httpsUri())).get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            mock.ignorePings(true);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> client.counters(route).connectionsBroken().getOrDefault("other", 0L) >= 1L);
            await().atMost(Duration.ofSeconds(5)).until(() -> client.stats(route).closedByReason().get(CloseReason.BROKEN) >= 1L);
            mock.ignorePings(false);
            assertThat(client.send(ping(mock.httpsUri())).get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            assertThat(mock.stats().connectionsAccepted()).isEqualTo(2);
            assertThat(client.stats(route).leasesOut()).isZero();
        }
    }

    @Test
    void aConnectionIsRetiredBeforeTheServersKeepAliveTimeout() throws Exception {
        try (MockProvider mock = MockProvider.start(MockOptions.builder().idleTimeout(Duration.ofSeconds(2)).build());
             ConnectionPoolManager client = ConnectionPoolManager.builder()
                     .poolConfig(PoolConfig.builder().minIdle(0).build()).build()) {
            URI base = mock.httpUri(); // plain HTTP/1.1: responses carry Keep-Alive: timeout=2
            Route route = Route.of(base);
            HttpResponse first = client.send(ping(base)).get(10, TimeUnit.SECONDS);
            assertThat(first.headers().get("keep-alive")).isEqualTo("timeout=2");
            // Retired one second before the server's 2 s, so it never races the server's close.
            await().atMost(Duration.ofSeconds(5)).until(() -> client.stats(route).open() == 0);
            // Retired while its channel was still open ("other"), not found closed by the server ("closed").
            assertThat(client.counters(route).connectionsBroken()).containsEntry("other", 1L).doesNotContainKey("closed");
            assertThat(client.send(ping(base)).get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            assertThat(mock.stats().connectionsAccepted()).isEqualTo(2);
            assertThat(client.counters(route).failures()).isEmpty();
        }
    }
}

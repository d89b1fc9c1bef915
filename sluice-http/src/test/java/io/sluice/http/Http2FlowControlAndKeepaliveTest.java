package io.sluice.http;

import static io.sluice.http.HttpTestSupport.assertNoLeasesOut;
import static io.sluice.http.HttpTestSupport.chat;
import static io.sluice.http.HttpTestSupport.clientFor;
import static io.sluice.http.HttpTestSupport.https;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.http.internal.transport.Http2Connection;
import io.sluice.http.internal.transport.HttpConnection;
import io.sluice.pool.Lease;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

class Http2FlowControlAndKeepaliveTest {

    @RegisterExtension
    static final MockProviderExtension MOCK = MockProviderExtension.withOptions(
            MockOptions.builder().initialWindowSize(16 * 1024 * 1024).build());
    @InjectMock
    static MockProvider mock;

    private static Http2Connection connectionOf(ConnectionPoolManager client) {
        Lease<HttpConnection> lease = client.routePool(Route.of(https(mock, "/"))).acquire().join();
        try {
            return (Http2Connection) lease.connection();
        } finally {
            lease.close();
        }
    }

    @Test
    void theAdaptiveWindowGrowsOnALargeBody() {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            HttpRequest big = chat(https(mock, "/v1/chat/completions"), true).toBuilder()
                    .header("x-mock-tokens", "40000").build();
            HttpResponse r = client.sendBlocking(big);
            assertThat(r.bodyLength()).isGreaterThan(1_000_000);
            assertThat(connectionOf(client).currentStreamWindow())
                    .as("BDP estimate grew the 64 KiB window").isGreaterThan(Http2Settings.DEFAULT_INITIAL_STREAM_WINDOW);
            assertNoLeasesOut(client);
        }
    }

    @Test
    void theWindowStaysFixedWhenAdaptationIsOff() {
        try (ConnectionPoolManager client = clientFor(mock).http2(Http2Settings.defaults().withAdaptiveWindow(false))
                .build()) {
            HttpRequest big = chat(https(mock, "/v1/chat/completions"), true).toBuilder()
                    .header("x-mock-tokens", "20000").build();
            assertThat(client.sendBlocking(big).status()).isEqualTo(200);
            assertThat(connectionOf(client).currentStreamWindow()).isEqualTo(Http2Settings.DEFAULT_INITIAL_STREAM_WINDOW);
            assertNoLeasesOut(client);
        }
    }

    /**
     * The second request may land while a keepalive PING is out; until a PING in flight stops taking the
     * connection's capacity to 0 (Http2Connection), that request opens a second connection and the
     * {@code created() == 1} assertion fails.
     */
    @Test
    @Timeout(30)
    void keepalivePingsKeepAnIdleConnectionUsable() {
        try (ConnectionPoolManager client = clientFor(mock)
                .http2(Http2Settings.defaults().withPing(Duration.ofMillis(50), Duration.ofMillis(500))).build()) {
            assertThat(client.sendBlocking(HttpRequest.newBuilder(https(mock, "/ping")).build()).status()).isEqualTo(200);
            // Several keepalive rounds, each answered. The idle connection sends no other PING (BDP PINGs
            // go with DATA, validation PINGs with an acquire), so all but a BDP PING of the first
            // response that may still be out are keepalive PINGs: three ACKs mean at least two rounds.
            long acked = mock.pingsAnswered();
            await().atMost(Duration.ofSeconds(10)).until(() -> mock.pingsAnswered() >= acked + 3);
            Http2Connection c = connectionOf(client);
            assertThat(c.isBroken()).isFalse();
            assertThat(client.sendBlocking(HttpRequest.newBuilder(https(mock, "/ping")).build()).status()).isEqualTo(200);
            assertThat(client.stats(Route.of(https(mock, "/"))).created()).isEqualTo(1);
            assertNoLeasesOut(client);
        }
    }

    @Test
    void validationIsAPingOnThePooledConnection() {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            client.sendBlocking(HttpRequest.newBuilder(https(mock, "/ping")).build());
            Http2Connection c = connectionOf(client);
            c.validate().orTimeout(2, java.util.concurrent.TimeUnit.SECONDS).join();
            assertNoLeasesOut(client);
        }
    }
}

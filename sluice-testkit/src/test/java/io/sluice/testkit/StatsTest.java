package io.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Counters: connections, full vs resumed handshakes (both TLS engines), requests, stream maxima. */
class StatsTest {

    @ParameterizedTest(name = "forceJdkSsl={0}")
    @ValueSource(booleans = {false, true})
    void countsFullAndResumedHandshakes(boolean forceJdk) throws Exception {
        try (MockProvider mock = MockProvider.start(MockOptions.builder().forceJdkSsl(forceJdk).build())) {
            if (!forceJdk && io.netty.handler.ssl.OpenSsl.isAvailable()) {
                assertThat(mock.tlsProvider()).startsWith("OpenSSL");
            } else {
                assertThat(mock.tlsProvider()).isEqualTo("JDK");
            }
            // One SSLContext: its client session cache lets later connections resume. A new client per
            // request forces a new connection each time.
            javax.net.ssl.SSLContext ctx = TestClients.sslContext(mock.certificatePem());
            for (int i = 0; i < 3; i++) {
                HttpClient client = HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1).build();
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(mock.httpsUri().resolve("/ping")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
            }
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                MockStats s = mock.stats();
                assertThat(s.tlsHandshakesFull() + s.tlsHandshakesResumed()).isEqualTo(3);
                assertThat(s.tlsHandshakesFull()).isEqualTo(1);
                assertThat(s.tlsHandshakesResumed()).isEqualTo(2);
                assertThat(s.connectionsAccepted()).isEqualTo(3);
            });
        }
    }

    @Test
    void tracksStreamMaximaOnOneHttp2Connection() throws Exception {
        try (MockProvider mock = MockProvider.start()) {
            HttpClient client = TestClients.jdk(mock, HttpClient.Version.HTTP_2);
            // Warm one connection so the concurrent requests share it.
            client.send(HttpRequest.newBuilder(mock.httpsUri().resolve("/ping")).build(), HttpResponse.BodyHandlers.discarding());
            mock.resetCounters();
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                all.add(client.sendAsync(HttpRequest.newBuilder(mock.httpsUri().resolve("/v1/chat/completions"))
                        .header("x-mock-delay-ms", "1500")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"m\",\"messages\":[]}")).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> mock.stats().openStreams() == 40);
            MockStats during = mock.stats();
            assertThat(during.maxStreamsOnOneConnection()).isEqualTo(40);
            assertThat(during.maxStreamsOverall()).isEqualTo(40);
            assertThat(during.connectionsAccepted()).isZero();
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(5)).until(() -> mock.stats().openStreams() == 0);
            MockStats after = mock.stats();
            assertThat(after.requests("/v1/chat/completions")).isEqualTo(40);
            assertThat(after.http2Connections()).isZero();
            mock.resetCounters();
            assertThat(mock.stats().maxStreamsOnOneConnection()).isZero();
            assertThat(mock.stats().totalRequests()).isZero();
        }
    }

    @Test
    void countsConnectionsOpenAndClosed() throws Exception {
        try (MockProvider mock = MockProvider.start()) {
            TestClients.raw(mock, "GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 3000);
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                MockStats s = mock.stats();
                assertThat(s.connectionsAccepted()).isEqualTo(1);
                assertThat(s.connectionsOpen()).isZero();
                assertThat(s.requests("/ping")).isEqualTo(1);
                assertThat(s.openStreams()).isZero();
            });
        }
    }
}

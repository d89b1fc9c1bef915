package io.sluice.http;

import static io.sluice.http.HttpTestSupport.assertNoLeasesOut;
import static io.sluice.http.HttpTestSupport.chat;
import static io.sluice.http.HttpTestSupport.clientFor;
import static io.sluice.http.HttpTestSupport.http;
import static io.sluice.http.HttpTestSupport.https;
import static io.sluice.http.HttpTestSupport.testPool;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

@ExtendWith(MockProviderExtension.class)
class FailureModesTest {

    @InjectMock
    static MockProvider mock;

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aServerClosedIdleConnectionCausesNoErrorOnTheNextRequest(boolean tls) {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            java.net.URI ping = tls ? https(mock, "/ping") : http(mock, "/ping");
            Route route = Route.of(ping);
            assertThat(client.sendBlocking(HttpRequest.newBuilder(ping).build()).status()).isEqualTo(200);
            mock.killConnections();
            await().atMost(Duration.ofSeconds(5)).until(() -> client.stats(route).open() == 0);
            assertThat(client.sendBlocking(HttpRequest.newBuilder(ping).build()).status()).isEqualTo(200);
            assertNoLeasesOut(client);
        }
    }

    @Test
    void aRequestThatFailsOnAStaleReusedConnectionIsReplayedOnce() throws Exception {
        AtomicInteger connections = new AtomicInteger();
        try (ServerSocket ss = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            Thread server = new Thread(() -> {
                try {
                    while (true) {
                        Socket s = ss.accept();
                        int n = connections.incrementAndGet();
                        Thread t = new Thread(() -> serveStaleOnSecondRequest(s, n == 1));
                        t.setDaemon(true);
                        t.start();
                    }
                } catch (Exception ignored) {
                    // closed
                }
            });
            server.setDaemon(true);
            server.start();
            try (ConnectionPoolManager client = ConnectionPoolManager.builder()
                    .poolConfig(testPool().validationBypassWindow(Duration.ofSeconds(60)).build()).build()) {
                HttpRequest get = HttpRequest.newBuilder("http://127.0.0.1:" + ss.getLocalPort() + "/x").build();
                assertThat(client.sendBlocking(get).bodyAsString()).isEqualTo("ok");
                // the server now drops the reused connection when the request arrives, before answering
                assertThat(client.sendBlocking(get).bodyAsString()).isEqualTo("ok");
                assertThat(connections.get()).isEqualTo(2);
                assertNoLeasesOut(client);
            }
        }
    }

    /** First connection: answers one request, then closes on the next without answering. Others answer all. */
    private static void serveStaleOnSecondRequest(Socket s, boolean staleAfterOne) {
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            int served = 0;
            while (readRequestHead(in)) {
                if (staleAfterOne && served == 1) {
                    s.setSoLinger(true, 0);
                    return; // reset, no response byte
                }
                out.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                served++;
            }
        } catch (Exception ignored) {
            // peer went away
        }
    }

    private static boolean readRequestHead(InputStream in) throws java.io.IOException {
        int state = 0;
        for (int b; (b = in.read()) != -1; ) {
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
            if (state == 4) {
                return true;
            }
        }
        return false;
    }

    @ParameterizedTest
    @EnumSource(value = TlsOptions.Provider.class, names = {"OPENSSL", "JDK"})
    void aCertificateForAnotherHostFailsWithHostnameMismatch(TlsOptions.Provider provider) {
        try (MockProvider other = MockProvider.start(MockOptions.builder().host("127.0.0.2").build());
             ConnectionPoolManager client = ConnectionPoolManager.builder().poolConfig(testPool().build())
                     .tls(TlsOptions.builder().provider(provider).trustCertificatePem(other.certificatePem()).build())
                     .build()) {
            HttpRequest req = HttpRequest.newBuilder("https://127.0.0.2:" + other.tlsPort() + "/ping").build();
            assertThatThrownBy(() -> client.sendBlocking(req)).isInstanceOfSatisfying(TlsFailedException.class,
                    e -> assertThat(e.reason()).isEqualTo(TlsFailedException.Reason.HOSTNAME_MISMATCH));
            assertNoLeasesOut(client);
        }
    }

    @ParameterizedTest
    @EnumSource(value = TlsOptions.Provider.class, names = {"OPENSSL", "JDK"})
    void anUntrustedCertificateFailsWithUntrusted(TlsOptions.Provider provider) {
        try (ConnectionPoolManager client = ConnectionPoolManager.builder().poolConfig(testPool().build())
                .tls(TlsOptions.builder().provider(provider).build()).build()) {
            assertThatThrownBy(() -> client.sendBlocking(HttpRequest.newBuilder(https(mock, "/ping")).build()))
                    .isInstanceOfSatisfying(TlsFailedException.class,
                            e -> assertThat(e.reason()).isEqualTo(TlsFailedException.Reason.UNTRUSTED));
            assertNoLeasesOut(client);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aHeaderBlockOver64KiBFailsWithTheLimitAndFreesTheSlot(boolean h2) {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            java.net.URI ping = h2 ? https(mock, "/ping") : http(mock, "/ping");
            HttpRequest req = HttpRequest.newBuilder(ping).header("x-mock-malformed", "oversized-headers").build();
            assertThatThrownBy(() -> client.sendBlocking(req)).isInstanceOfSatisfying(LimitExceededException.class,
                    e -> assertThat(e.limit()).isEqualTo(LimitExceededException.Limit.HEADER_BLOCK));
            assertNoLeasesOut(client);
            assertThat(client.sendBlocking(HttpRequest.newBuilder(ping).build()).status()).isEqualTo(200);
        }
    }

    @Test
    void anAggregatedBodyOverTheLimitFailsAndFreesTheSlot() {
        try (ConnectionPoolManager client = clientFor(mock).limits(new Limits(64 * 1024, 1024, 1024 * 1024)).build()) {
            HttpRequest big = chat(https(mock, "/v1/chat/completions"), false).toBuilder()
                    .header("x-mock-tokens", "2000").build();
            assertThatThrownBy(() -> client.sendBlocking(big)).isInstanceOfSatisfying(LimitExceededException.class,
                    e -> assertThat(e.limit()).isEqualTo(LimitExceededException.Limit.BODY));
            assertNoLeasesOut(client);
        }
    }

    @Test
    void anSseLineOverTheLimitFailsAndFreesTheSlot() {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            HttpRequest req = chat(https(mock, "/v1/chat/completions"), true).toBuilder()
                    .header("x-mock-malformed", "oversized-sse-line").build();
            try (StreamingResponse r = client.streamBlocking(req)) {
                assertThatThrownBy(() -> {
                    while (r.nextEventBlocking() != null) {
                        // until the long line
                    }
                }).isInstanceOfSatisfying(LimitExceededException.class,
                        e -> assertThat(e.limit()).isEqualTo(LimitExceededException.Limit.SSE_LINE));
            }
            assertNoLeasesOut(client);
        }
    }

    @Test
    void secretsNeverAppearInToString() {
        HttpRequest req = chat(https(mock, "/v1/chat/completions?api_key=sk-in-query"), false).toBuilder()
                .header("x-api-key", "sk-ant-secret").build();
        assertThat(req.toString()).doesNotContain("sk-test-secret", "sk-ant-secret", "sk-in-query")
                .contains("<redacted>");
    }
}

package io.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.codec.http2.Http2Error;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.Test;

/** PING silence, stream refusal, TCP resets and restarts: the knobs added for client fault tests. */
class ServerFaultsTest {
    private static final String CHAT = "{\"model\":\"m\",\"messages\":[]}";
    private static final String CHAT_STREAM = "{\"model\":\"m\",\"stream\":true,\"messages\":[]}";

    @Test
    void ignorePingsLeavesPingsUnansweredUntilTurnedOff() throws Exception {
        try (MockProvider m = MockProvider.start(MockOptions.builder().ignorePings(true).build());
                RawH2Client c = new RawH2Client(m.plainPort())) {
            c.ping(1);
            assertThat(c.await("PING_ACK", 500)).isNull();
            m.ignorePings(false);
            c.ping(2);
            assertThat(c.await("PING_ACK", 5000)).isEqualTo("PING_ACK 2");
            m.ignorePings(true);
            assertThat(m.ignorePings()).isTrue();
            c.ping(3);
            assertThat(c.await("PING_ACK", 500)).isNull();
            // Requests are still served while PINGs go unanswered.
            c.post(1, "/v1/chat/completions", CHAT);
            assertThat(c.await("HEADERS 1", 5000)).isEqualTo("HEADERS 1 200 end=false");
        }
    }

    @Test
    void refuseStreamResetsWithRefusedStreamAndKeepsTheConnection() throws Exception {
        try (MockProvider m = MockProvider.start(); RawH2Client c = new RawH2Client(m.plainPort())) {
            c.post(1, "/v1/chat/completions", CHAT, "x-mock-refuse-stream", "true");
            assertThat(c.await(e -> e.contains(" 1 "), 5000)).isEqualTo("RST 1 " + Http2Error.REFUSED_STREAM.code());
            c.post(3, "/v1/chat/completions", CHAT);
            assertThat(c.await("HEADERS 3", 5000)).isEqualTo("HEADERS 3 200 end=false");
            assertThat(c.isOpen()).isTrue();
            // The refused request was never processed, so only the second one counts.
            assertThat(m.stats().requests("/v1/chat/completions")).isEqualTo(1);
        }
    }

    @Test
    void refuseStreamOnHttp1ClosesBeforeAnyResponseByte() throws Exception {
        try (MockProvider m = MockProvider.start()) {
            byte[] answer = TestClients.raw(m, TestClients.post("/v1/chat/completions", CHAT,
                    "x-mock-refuse-stream: true"), 5000);
            assertThat(answer).isEmpty();
        }
    }

    @Test
    void resetConnectionAfterBytesSendsTcpReset() throws Exception {
        try (MockProvider m = MockProvider.start(); Socket s = new Socket("127.0.0.1", m.plainPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(TestClients.post("/v1/chat/completions", CHAT_STREAM, "x-mock-tokens: 200",
                    "x-mock-token-delay-ms: 5", "x-mock-reset-connection-after-bytes: 300")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[8192];
            // A FIN would end the loop with -1; only an RST makes the read throw.
            assertThatThrownBy(() -> {
                while (in.read(buf) >= 0) {
                    // keep reading until the reset arrives
                }
            }).isInstanceOf(SocketException.class).hasMessageContaining("reset");
        }
    }

    @Test
    void resetConnectionAfterBytesFailsAnHttp2Client() throws Exception {
        try (MockProvider m = MockProvider.start()) {
            HttpClient client = TestClients.jdk(m, HttpClient.Version.HTTP_2);
            HttpRequest req = HttpRequest.newBuilder(m.httpsUri().resolve("/v1/chat/completions"))
                    .header("x-mock-tokens", "200").header("x-mock-token-delay-ms", "5")
                    .header("x-mock-reset-connection-after-bytes", "500")
                    .POST(HttpRequest.BodyPublishers.ofString(CHAT_STREAM)).build();
            assertThatThrownBy(() -> client.send(req, HttpResponse.BodyHandlers.ofString()))
                    .isInstanceOf(IOException.class);
        }
    }

    @Test
    void restartServesOnTheSamePortsWithTheSameCertificate() throws Exception {
        MockProvider first = MockProvider.start();
        OkHttpClient ok = TestClients.okTls(first);
        MockProvider second = null;
        try {
            first.behavior(first.behavior().toBuilder().tokens(3).build());
            assertThat(get(ok, first)).isEqualTo(200);
            int tls = first.tlsPort();
            int plain = first.plainPort();
            second = first.restart();
            assertThat(second.tlsPort()).isEqualTo(tls);
            assertThat(second.plainPort()).isEqualTo(plain);
            assertThat(second.certificatePem()).isEqualTo(first.certificatePem());
            assertThat(second.behavior().tokens()).isEqualTo(3);
            // The client trusted the first server's certificate and still connects.
            assertThat(get(ok, second)).isEqualTo(200);
            assertThat(second.stats().connectionsAccepted()).isEqualTo(1);
        } finally {
            TestClients.shutdown(ok);
            first.close();
            if (second != null) {
                second.close();
            }
        }
    }

    @Test
    void restartUnderLoadRecovers() throws Exception {
        MockProvider m = MockProvider.start();
        HttpClient client = TestClients.jdk(m, HttpClient.Version.HTTP_2);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger okBefore = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        var uri = m.httpsUri().resolve("/v1/chat/completions");
        CompletableFuture<Void> load = CompletableFuture.runAsync(() -> {
            while (!stop.get()) {
                try {
                    HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5))
                            .header("x-mock-token-delay-ms", "5").POST(HttpRequest.BodyPublishers.ofString(CHAT_STREAM))
                            .build(), HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200) {
                        okBefore.incrementAndGet();
                    }
                } catch (IOException e) {
                    failed.incrementAndGet();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        });
        try {
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> okBefore.get() > 3);
            m = m.restart(Duration.ofMillis(100));
            MockProvider restarted = m;
            // Served again after the restart: the new server counts requests from zero.
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> restarted.stats().requests("/v1/chat/completions") > 3);
        } finally {
            stop.set(true);
            load.get(10, TimeUnit.SECONDS);
            m.close();
        }
    }

    @Test
    void fixedPortsCanBeReboundRightAfterClose() {
        int tls;
        int plain;
        try (MockProvider m = MockProvider.start()) {
            tls = m.tlsPort();
            plain = m.plainPort();
        }
        try (MockProvider again = MockProvider.start(MockOptions.builder().tlsPort(tls).plainPort(plain).build())) {
            assertThat(again.tlsPort()).isEqualTo(tls);
            assertThat(again.plainPort()).isEqualTo(plain);
        }
    }

    private static int get(OkHttpClient ok, MockProvider m) throws IOException {
        try (Response r = ok.newCall(new Request.Builder().url(m.httpsUri().resolve("/ping").toString()).build())
                .execute()) {
            return r.code();
        }
    }
}

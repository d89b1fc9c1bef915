package io.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Each x-mock-* knob and server-level fault action, seen from real clients. */
@ExtendWith(MockProviderExtension.class)
class FaultKnobsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAT_STREAM = "{\"model\":\"m\",\"stream\":true,\"messages\":[]}";
    @InjectMock
    private static MockProvider mock;
    private static Call h2;
    private static Call h1;

    @BeforeAll
    static void clients() {
        h2 = Call.jdk(mock, HttpClient.Version.HTTP_2, true);
        h1 = Call.jdk(mock, HttpClient.Version.HTTP_1_1, false);
    }

    @Test
    void status429CarriesRetryHeadersAndOpenAiError() throws Exception {
        for (Call c : List.of(h1, h2)) {
            Call.Result r = c.send("POST", "/v1/chat/completions", "{\"model\":\"m\",\"messages\":[]}",
                    "x-mock-status", "429", "x-mock-retry-after-ms", "1500", "x-mock-should-retry", "true");
            assertThat(r.status()).isEqualTo(429);
            assertThat(r.header("retry-after")).isEqualTo("2");
            assertThat(r.header("retry-after-ms")).isEqualTo("1500");
            assertThat(r.header("x-should-retry")).isEqualTo("true");
            assertThat(r.header("x-ratelimit-remaining-requests")).isEqualTo("0");
            assertThat(JSON.readTree(r.body()).path("error").path("code").asText()).isEqualTo("rate_limit_exceeded");
        }
    }

    @Test
    void serverErrorsInBothShapes() throws Exception {
        Call.Result s500 = h2.send("POST", "/v1/chat/completions", CHAT_STREAM, "x-mock-status", "500");
        assertThat(s500.status()).isEqualTo(500);
        assertThat(JSON.readTree(s500.body()).path("error").path("type").asText()).isEqualTo("server_error");
        Call.Result s503 = h2.send("POST", "/v1/responses", "{\"model\":\"m\",\"input\":\"x\"}", "x-mock-status", "503",
                "x-mock-should-retry", "false");
        assertThat(s503.status()).isEqualTo(503);
        assertThat(s503.header("retry-after-ms")).isEqualTo("1000");
        assertThat(s503.header("x-should-retry")).isEqualTo("false");
        Call.Result s529 = h1.send("POST", "/v1/messages", "{\"model\":\"m\",\"max_tokens\":1,\"messages\":[]}",
                "x-mock-status", "529");
        assertThat(s529.status()).isEqualTo(529);
        assertThat(JSON.readTree(s529.body()).path("error").path("type").asText()).isEqualTo("overloaded_error");
        assertThat(JSON.readTree(s529.body()).path("type").asText()).isEqualTo("error");
    }

    @Test
    void serverWideBehaviourIsOverriddenByHeaders() throws Exception {
        MockBehavior before = mock.behavior();
        try {
            mock.behavior(before.toBuilder().status(503).build());
            assertThat(h2.send("GET", "/v1/models", null).status()).isEqualTo(503);
            assertThat(h2.send("GET", "/v1/models", null, "x-mock-status", "200").status()).isEqualTo(200);
        } finally {
            mock.behavior(before);
        }
    }

    @Test
    void errorEventMidStreamInEachFormat() throws Exception {
        Call.Result chat = h2.send("POST", "/v1/chat/completions", CHAT_STREAM, "x-mock-error-after-tokens", "2");
        List<TestClients.SseEvent> c = TestClients.parseSse(chat.body());
        assertThat(c).hasSize(4); // role, 2 tokens, error
        assertThat(JSON.readTree(c.get(3).data()).path("error").path("type").asText()).isEqualTo("server_error");
        assertThat(chat.body()).doesNotContain("[DONE]");

        Call.Result resp = h1.send("POST", "/v1/responses", "{\"model\":\"m\",\"input\":\"x\",\"stream\":true}",
                "x-mock-error-after-tokens", "1");
        List<TestClients.SseEvent> r = TestClients.parseSse(resp.body());
        assertThat(r.get(r.size() - 1).event()).isEqualTo("error");
        assertThat(r.stream().filter(e -> e.event().equals("response.output_text.delta")).count()).isEqualTo(1);

        Call.Result msg = h2.send("POST", "/v1/messages",
                "{\"model\":\"m\",\"max_tokens\":1,\"stream\":true,\"messages\":[]}", "x-mock-error-after-tokens", "0");
        List<TestClients.SseEvent> m = TestClients.parseSse(msg.body());
        assertThat(m.get(m.size() - 1).event()).isEqualTo("error");
        assertThat(JSON.readTree(m.get(m.size() - 1).data()).path("error").path("type").asText()).isEqualTo("overloaded_error");
    }

    @Test
    void delayAndTokenDelayUseTheSchedulerAndStillFinish() throws Exception {
        Call.Result r = h2.send("POST", "/v1/chat/completions", CHAT_STREAM, "x-mock-delay-ms", "50",
                "x-mock-token-delay-ms", "5", "x-mock-tokens", "10");
        assertThat(r.status()).isEqualTo(200);
        assertThat(TestClients.parseSse(r.body())).hasSize(13);
    }

    @Test
    void closeAfterBytesTruncatesTheBody() throws Exception {
        byte[] raw = TestClients.raw(mock, TestClients.post("/v1/chat/completions", CHAT_STREAM,
                "x-mock-close-after-bytes: 40", "x-mock-tokens: 50"), 5000);
        String s = new String(raw, StandardCharsets.ISO_8859_1);
        assertThat(s).startsWith("HTTP/1.1 200");
        String body = s.substring(s.indexOf("\r\n\r\n") + 4);
        assertThat(body).doesNotContain("[DONE]");
        assertThatThrownBy(() -> h2.send("POST", "/v1/chat/completions", CHAT_STREAM, "x-mock-close-after-bytes", "100"))
                .isInstanceOf(IOException.class);
    }

    @Test
    void resetAfterTokensSendsRstStreamOnHttp2() {
        OkHttpClient ok = TestClients.okH2c();
        try {
            Request req = new Request.Builder().url(mock.httpUri().resolve("/v1/chat/completions").toString())
                    .header("x-mock-reset-after-tokens", "3")
                    .post(RequestBody.create(CHAT_STREAM, MediaType.get("application/json"))).build();
            assertThatThrownBy(() -> {
                try (Response r = ok.newCall(req).execute()) {
                    r.body().string();
                }
            }).isInstanceOf(okhttp3.internal.http2.StreamResetException.class)
                    .hasMessageContaining("CANCEL");
            // The connection survives a stream reset.
            assertThat(h2.send("GET", "/ping", null).status()).isEqualTo(200);
        } catch (Exception e) {
            throw new AssertionError(e);
        } finally {
            TestClients.shutdown(ok);
        }
    }

    @Test
    void blackholeNeverAnswersButKeepsTheSocket() throws Exception {
        HttpClient client = TestClients.jdk(mock, HttpClient.Version.HTTP_2);
        HttpRequest req = HttpRequest.newBuilder(mock.httpsUri().resolve("/v1/chat/completions"))
                .timeout(Duration.ofMillis(300)).header("x-mock-blackhole", "true")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"m\",\"messages\":[]}")).build();
        assertThatThrownBy(() -> client.send(req, HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(HttpTimeoutException.class);
    }

    @Test
    void oversizedHeadersExceed64KiB() throws Exception {
        byte[] raw = TestClients.raw(mock, "GET /ping HTTP/1.1\r\nHost: x\r\nx-mock-malformed: oversized-headers\r\n"
                + "Connection: close\r\n\r\n", 5000);
        String s = new String(raw, StandardCharsets.ISO_8859_1);
        assertThat(s.indexOf("\r\n\r\n")).isGreaterThan(64 * 1024);
        OkHttpClient ok = TestClients.okHttp1();
        try {
            Request req = new Request.Builder().url(mock.httpUri().resolve("/ping").toString())
                    .header("x-mock-malformed", "oversized-headers").build();
            // OkHttp caps a header block at 256 KiB, so 100 KiB still parses: proof the block is well-formed.
            try (Response r = ok.newCall(req).execute()) {
                assertThat(r.header("x-mock-padding-0")).hasSize(4096);
            }
        } finally {
            TestClients.shutdown(ok);
        }
    }

    @Test
    void brokenChunkedFailsTheClient() {
        assertThatThrownBy(() -> h1.send("POST", "/v1/chat/completions", CHAT_STREAM, "x-mock-malformed", "broken-chunked"))
                .isInstanceOf(IOException.class);
        byte[] raw;
        try {
            raw = TestClients.raw(mock, TestClients.post("/v1/chat/completions", CHAT_STREAM,
                    "x-mock-malformed: broken-chunked"), 5000);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        assertThat(new String(raw, StandardCharsets.ISO_8859_1)).contains("\r\nzz\r\n");
    }

    @Test
    void oversizedSseLineIsOneLineOverOneMiB() throws Exception {
        Call.Result r = h2.send("POST", "/v1/chat/completions", CHAT_STREAM, "x-mock-malformed", "oversized-sse-line");
        List<TestClients.SseEvent> events = TestClients.parseSse(r.body());
        assertThat(events.get(1).data().length()).isGreaterThan(1 << 20);
        assertThat(events.get(events.size() - 1).data()).isEqualTo("[DONE]");
    }

    @Test
    void slowHeadersDripTheHeadButTheResponseIsIntact() throws Exception {
        Call.Result r = h1.send("POST", "/v1/chat/completions", CHAT_STREAM, "x-mock-slow-headers-ms", "1");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("x-request-id")).isNotNull();
        assertThat(TestClients.parseSse(r.body()).get(TestClients.parseSse(r.body()).size() - 1).data()).isEqualTo("[DONE]");
        // Keep-alive still works after a dripped head.
        assertThat(h1.send("GET", "/ping", null, "x-mock-slow-headers-ms", "1").body()).isEqualTo("pong\n");
    }

    @Test
    void goAwayAfterStreamsMakesClientsReconnect() throws Exception {
        try (MockProvider m = MockProvider.start(MockOptions.builder()
                .behavior(MockBehavior.builder().goAwayAfterStreams(2).build()).build())) {
            // OkHttp, because JDK 17's client fails in-flight streams on any GOAWAY instead of draining.
            OkHttpClient ok = TestClients.okTls(m);
            try {
                for (int i = 0; i < 6; i++) {
                    try (Response r = ok.newCall(new Request.Builder().url(m.httpsUri().resolve("/ping").toString())
                            .build()).execute()) {
                        assertThat(r.code()).isEqualTo(200);
                        assertThat(r.protocol()).isEqualTo(okhttp3.Protocol.HTTP_2);
                    }
                }
            } finally {
                TestClients.shutdown(ok);
            }
            assertThat(m.stats().connectionsAccepted()).isGreaterThanOrEqualTo(3);
            assertThat(m.stats().requests("/ping")).isEqualTo(6);
        }
    }

    @Test
    void killConnectionsAndGoAwayAll() throws Exception {
        try (MockProvider m = MockProvider.start()) {
            HttpClient client = TestClients.jdk(m, HttpClient.Version.HTTP_2);
            CompletableFuture<HttpResponse<String>> pending = client.sendAsync(
                    HttpRequest.newBuilder(m.httpsUri().resolve("/v1/chat/completions")).header("x-mock-blackhole", "true")
                            .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"m\",\"messages\":[]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            await().atMost(Duration.ofSeconds(5)).until(() -> m.stats().openStreams() == 1);
            m.killConnections();
            assertThatThrownBy(() -> pending.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(IOException.class);
            await().atMost(Duration.ofSeconds(5)).until(() -> m.stats().connectionsOpen() == 0);

            assertThat(client.send(HttpRequest.newBuilder(m.httpsUri().resolve("/ping")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(5)).until(() -> m.stats().connectionsOpen() == 1);
            m.goAwayAll();
            await().atMost(Duration.ofSeconds(5)).until(() -> m.stats().connectionsOpen() == 0);
        }
    }

    @Test
    void idleConnectionsAreClosedAndHttp1AdvertisesKeepAlive() throws Exception {
        try (MockProvider m = MockProvider.start(MockOptions.builder().idleTimeout(Duration.ofMillis(300)).build())) {
            byte[] raw = TestClients.raw(m, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n", 5000);
            String s = new String(raw, StandardCharsets.ISO_8859_1);
            // raw() returned because the server closed the idle connection, well before the read timeout.
            assertThat(s).contains("keep-alive: timeout=1");
            await().atMost(Duration.ofSeconds(5)).until(() -> m.stats().connectionsOpen() == 0);
        }
    }

    @Test
    void updateMaxConcurrentStreamsReachesOpenConnections() throws Exception {
        try (MockProvider m = MockProvider.start(MockOptions.builder().maxConcurrentStreams(4).build())) {
            HttpClient client = TestClients.jdk(m, HttpClient.Version.HTTP_2);
            client.send(HttpRequest.newBuilder(m.httpsUri().resolve("/ping")).build(), HttpResponse.BodyHandlers.discarding());
            m.updateMaxConcurrentStreams(64);
            assertThat(m.maxConcurrentStreams()).isEqualTo(64);
            // The SETTINGS frame precedes this response on the connection, so once it is back the client has
            // applied (and acknowledged) the new limit.
            client.send(HttpRequest.newBuilder(m.httpsUri().resolve("/ping")).build(), HttpResponse.BodyHandlers.discarding());
            // After the SETTINGS, 20 concurrent delayed streams fit on the one open connection.
            List<CompletableFuture<HttpResponse<String>>> all = new java.util.ArrayList<>();
            for (int i = 0; i < 20; i++) {
                all.add(client.sendAsync(HttpRequest.newBuilder(m.httpsUri().resolve("/v1/models"))
                        .header("x-mock-delay-ms", "200").build(), HttpResponse.BodyHandlers.ofString()));
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
            assertThat(m.stats().maxStreamsOnOneConnection()).isGreaterThan(4);
            assertThat(m.stats().connectionsAccepted()).isEqualTo(1);
        }
    }
}

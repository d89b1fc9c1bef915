package io.sluice.http.adversary;

import static io.sluice.http.adversary.AdversaryClients.h2c;
import static io.sluice.http.adversary.AdversaryClients.http1;
import static io.sluice.http.adversary.AdversaryClients.outcome;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.ProtocolException;
import io.sluice.testkit.adversary.AdversaryH2Server;
import io.sluice.testkit.adversary.AdversaryHttp1Server;
import io.sluice.testkit.adversary.H2Script;
import io.sluice.testkit.adversary.Http1Script;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Review 5 findings on transparent decompression (8681e3e). */
@Timeout(30)
class Review5DecompressionFindingsTest {

    /**
     * A response that carries no body (HEAD; 304) may still name the content-coding the GET would
     * have had (RFC 9110 §9.3.2, §15.4.5). There is nothing to inflate, so nothing can be truncated.
     */
    @Test
    void aHeadAnswerNamingGzipIsNotATruncatedBody() throws Exception {
        Http1Script answer = Http1Script.reply().send(("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                + "content-encoding: gzip\r\ncontent-length: 1234\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        try (AdversaryHttp1Server server = AdversaryHttp1Server.builder().defaultScript(answer).start();
             ConnectionPoolManager client = http1()) {
            HttpRequest head = HttpRequest.newBuilder(server.uri().resolve("/v1/models")).method("HEAD").build();
            Object r = outcome(client.send(head));
            assertThat(r).as("HEAD with content-encoding: gzip").isInstanceOf(HttpResponse.class);
            assertThat(((HttpResponse) r).status()).isEqualTo(200);
        }
    }

    @Test
    void aNotModifiedAnswerNamingGzipIsNotATruncatedBody() throws Exception {
        H2Script answer = H2Script.stream().headers(304, true, "etag", "\"v1\"", "content-encoding", "gzip");
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(answer).start();
             ConnectionPoolManager client = h2c()) {
            HttpRequest get = HttpRequest.newBuilder(server.uri().resolve("/v1/models"))
                    .header("if-none-match", "\"v1\"").build();
            Object r = outcome(client.send(get));
            assertThat(r).as("304 with content-encoding: gzip").isInstanceOf(HttpResponse.class);
            assertThat(((HttpResponse) r).status()).isEqualTo(304);
        }
    }

    /**
     * A corrupt gzip body on one HTTP/2 stream must fail that stream only (reset it), not the
     * connection and every other stream multiplexed on it.
     */
    @Test
    void aCorruptGzipBodyOnOneStreamLeavesTheOtherStreamsOnTheConnectionAlone() throws Exception {
        byte[] gz = gzip(("hello ".repeat(500)).getBytes(StandardCharsets.UTF_8));
        byte[] corrupt = gz.clone();
        for (int i = 12; i < 40; i++) {
            corrupt[i] ^= 0x5a;
        }
        H2Script slow = H2Script.stream().headers(200, false).pause(1500).data("healthy", true);
        H2Script bad = H2Script.stream().headers(200, false, "content-encoding", "gzip").data(corrupt, true);
        try (AdversaryH2Server server = AdversaryH2Server.builder().scripts(slow, bad).start();
             ConnectionPoolManager client = h2c()) {
            HttpRequest first = HttpRequest.newBuilder(server.uri().resolve("/slow")).build();
            CompletableFuture<HttpResponse> healthy = client.send(first);
            assertThat(server.awaitStreams(1, Duration.ofSeconds(5))).isTrue();
            Object failed = outcome(client.send(HttpRequest.newBuilder(server.uri().resolve("/corrupt")).build()));
            assertThat(failed).isInstanceOf(ProtocolException.class);
            Object ok = outcome(healthy);
            assertThat(ok).as("the concurrent healthy stream on the same connection").isInstanceOf(HttpResponse.class);
            assertThat(((HttpResponse) ok).bodyAsString()).isEqualTo("healthy");
            assertThat(server.connections()).isEqualTo(1);
        }
    }

    /**
     * HTTP/2 credit for an inflated frame is recorded (BodyDecoder.decode: frames.add) only after
     * the frame's output went to the sink. send()'s aggregator reads inline on the loop, so it
     * consumes (bytesConsumed) before the entry exists: the frame is credited only when the next
     * frame arrives. A window of one frame (or frames as large as the window) then never reopens.
     * The same server and window serve the identity body (the control) without trouble.
     */
    @Test
    void aGzipBodyThroughAOneFrameStreamWindowIsCreditedAsItIsConsumed() throws Exception {
        java.util.Random random = new java.util.Random(7);
        byte[] raw = new byte[96 * 1024];
        random.nextBytes(raw);
        String text = java.util.Base64.getEncoder().encodeToString(raw); // ~96 kB of gzip on the wire
        byte[] gz = gzip(text.getBytes(StandardCharsets.US_ASCII));
        byte[] plainBody = text.getBytes(StandardCharsets.US_ASCII);
        try (WindowRespectingH2Server server = new WindowRespectingH2Server(path -> path.equals("/gz")
                ? new WindowRespectingH2Server.Answer(gz, true) : new WindowRespectingH2Server.Answer(plainBody, false))) {
            io.sluice.http.Http2Settings oneFrameWindow = new io.sluice.http.Http2Settings(16_384,
                    io.sluice.http.Http2Settings.DEFAULT_CONNECTION_WINDOW, false,
                    io.sluice.http.Http2Settings.DEFAULT_MAX_WINDOW, 100, Duration.ofSeconds(30), Duration.ofSeconds(5));
            try (ConnectionPoolManager client = ConnectionPoolManager.builder().poolConfig(AdversaryClients.pool())
                    .timeouts(AdversaryClients.timeouts()).h2cPriorKnowledge(true).http2(oneFrameWindow).build()) {
                Object plain = outcome(client.send(HttpRequest.newBuilder(server.uri().resolve("/plain")).build()));
                assertThat(plain).as("control: identity body through the same window").isInstanceOf(HttpResponse.class);
                assertThat(((HttpResponse) plain).bodyAsString()).isEqualTo(text);
                Object inflated = outcome(client.send(HttpRequest.newBuilder(server.uri().resolve("/gz")).build()));
                assertThat(inflated).as("gzip body through a one-frame stream window").isInstanceOf(HttpResponse.class);
                assertThat(((HttpResponse) inflated).bodyAsString()).isEqualTo(text);
            }
        }
    }

    private static byte[] gzip(byte[] in) throws Exception {
        return WindowRespectingH2Server.gzip(in);
    }
}

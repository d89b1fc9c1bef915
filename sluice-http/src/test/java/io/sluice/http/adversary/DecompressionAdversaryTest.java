package io.sluice.http.adversary;

import static io.sluice.http.adversary.AdversaryClients.h2c;
import static io.sluice.http.adversary.AdversaryClients.http1;
import static io.sluice.http.adversary.AdversaryClients.outcome;
import static io.sluice.http.adversary.AdversaryClients.readAll;
import static io.sluice.http.adversary.AdversaryClients.within;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.LimitExceededException;
import io.sluice.http.Limits;
import io.sluice.http.ProtocolException;
import io.sluice.http.StreamingResponse;
import io.sluice.testkit.adversary.AdversaryH2Server;
import io.sluice.testkit.adversary.AdversaryHttp1Server;
import io.sluice.testkit.adversary.H2Script;
import io.sluice.testkit.adversary.Http1Script;
import io.sluice.testkit.junit.NettyLeakCheck;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.zip.DeflaterOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Transparent decompression against servers that compress (RFC 9110 §8.4: {@code content-encoding}
 * names the codings applied, in order; a client that offered {@code gzip, deflate} must undo them).
 * The answer is the JSON the server compressed, read through every API; a body that inflates past
 * the body limit (a decompression bomb: 64 kB of gzip, 64 MB inflated) fails typed and frees the
 * connection; a corrupt or truncated stream is a protocol error; a caller that sets its own
 * {@code accept-encoding} gets the bytes as they came; a response without a body (HEAD, 304) that
 * names a coding is not a truncated stream; a corrupt stream fails its HTTP/2 stream only. Every buffer
 * the decoder touched is released ({@link NettyLeakCheck} after the class; the module runs the detector
 * at paranoid level).
 */
@Timeout(30)
@ExtendWith(NettyLeakCheck.class)
class DecompressionAdversaryTest {
    private static final String JSON = "{\"id\":\"chatcmpl-1\",\"choices\":[{\"message\":{\"content\":\""
            + "hello ".repeat(500) + "\"}}]}";

    @Test
    void aGzipAnswerOverHttp2IsInflatedForEveryReaderAndTheRequestOfferedIt() throws Exception {
        byte[] gz = gzip(JSON.getBytes(StandardCharsets.UTF_8));
        H2Script answer = H2Script.stream().headers(200, false, "content-type", "application/json",
                "content-encoding", "gzip", "content-length", String.valueOf(gz.length)).data(gz, true);
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(answer).start();
             ConnectionPoolManager client = h2c()) {
            HttpRequest get = HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build();
            HttpResponse whole = within(client.send(get));
            assertThat(whole.bodyAsString()).isEqualTo(JSON);
            assertThat(whole.headers().get("content-encoding")).as("the caller sees the body as produced").isNull();
            assertThat(whole.headers().get("content-length")).as("the compressed length would be wrong").isNull();
            assertThat(server.stream(1).headers().get("accept-encoding")).containsExactly("gzip, deflate");
            try (StreamingResponse streamed = within(client.stream(get))) {
                assertThat(new String(readAll(streamed), StandardCharsets.UTF_8)).isEqualTo(JSON);
            }
            assertThat(gz.length).as("what the wire carried").isLessThan(JSON.length() / 5);
        }
    }

    /**
     * A compressed body many times the stream window: the window counts compressed bytes, the caller
     * consumes inflated ones; crediting either wrongly stalls the stream (or over-credits it, which
     * Netty rejects as a flow-control error).
     */
    @Test
    void aCompressedBodyLargerThanTheWindowFlowsAsTheCallerReads() throws Exception {
        java.util.Random random = new java.util.Random(42);
        byte[] raw = new byte[1 << 20];
        random.nextBytes(raw);
        String text = java.util.Base64.getEncoder().encodeToString(raw); // compresses to about 3/4: ~1 MB on the wire
        byte[] gz = gzip(text.getBytes(StandardCharsets.US_ASCII));
        assertThat(gz.length).isGreaterThan(10 * 65_535);
        try (WindowRespectingH2Server server = new WindowRespectingH2Server(path -> new WindowRespectingH2Server.Answer(gz, true));
             ConnectionPoolManager client = h2c()) {
            HttpRequest get = HttpRequest.newBuilder(server.uri().resolve("/big")).build();
            try (StreamingResponse streamed = within(client.stream(get))) {
                assertThat(new String(readAll(streamed), StandardCharsets.US_ASCII)).isEqualTo(text);
            }
            for (int i = 0; i < 3; i++) { // the connection window was credited back in full each time
                assertThat(within(client.send(get)).bodyAsString()).isEqualTo(text);
            }
            assertThat(client.stats(get.route()).leasesOut()).isZero();
            assertThat(client.stats(get.route()).created()).as("one connection throughout").isEqualTo(1);
        }
    }

    @Test
    void aDeflateAnswerOverHttp1IsInflatedAndTheConnectionIsReused() throws Exception {
        byte[] z = deflate(JSON.getBytes(StandardCharsets.UTF_8));
        Http1Script answer = Http1Script.reply().send(("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                + "content-encoding: deflate\r\ncontent-length: " + z.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII))
                .send(z);
        try (AdversaryHttp1Server server = AdversaryHttp1Server.builder().defaultScript(answer).start();
             ConnectionPoolManager client = http1()) {
            HttpRequest get = HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build();
            assertThat(within(client.send(get)).bodyAsString()).isEqualTo(JSON);
            assertThat(within(client.send(get)).bodyAsString()).isEqualTo(JSON);
            assertThat(server.connections()).as("the inflated exchange left the connection reusable").isEqualTo(1);
        }
    }

    @Test
    void aDecompressionBombFailsWithTheBodyLimitAndFreesTheStream() throws Exception {
        byte[] bomb = gzip(new byte[64 << 20]); // 64 MiB of zeros: about 64 kB on the wire
        assertThat(bomb.length).isLessThan(100_000);
        H2Script answer = H2Script.stream().headers(200, false, "content-type", "application/json",
                "content-encoding", "gzip").data(bomb, true);
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(answer).start();
             ConnectionPoolManager client = ConnectionPoolManager.builder().poolConfig(AdversaryClients.pool())
                     .timeouts(AdversaryClients.timeouts()).h2cPriorKnowledge(true)
                     .limits(new Limits(Limits.defaults().maxHeaderBlockBytes(), 1 << 20, Limits.defaults().maxSseLineBytes()))
                     .build()) {
            HttpRequest get = HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build();
            Object failure = outcome(client.send(get));
            assertThat(failure).isInstanceOfSatisfying(LimitExceededException.class,
                    e -> assertThat(e.limit()).isEqualTo(LimitExceededException.Limit.BODY));
            assertThat(client.stats(get.route()).leasesOut()).as("the stream's slot is free").isZero();
        }
    }

    /**
     * One frame of a bomb (15 MiB of zeros in under 16 KiB of gzip: one HTTP/2 DATA frame) against a 1 MiB
     * limit: typed failure, the stream's slot free and the connection serving the next stream, and no buffer
     * leaked on the way (the class's leak check runs the detector, which tracks every buffer here). The
     * decoder's own test ({@code BodyDecoderTest}) measures what the bomb held at once.
     */
    @Test
    void aSingleFrameBombOverHttp2FailsWithTheBodyLimitAndTheConnectionServesTheNextStream() throws Exception {
        byte[] bomb = gzip(new byte[15 << 20]);
        assertThat(bomb.length).as("fits one DATA frame").isLessThanOrEqualTo(16_384);
        H2Script bombAnswer = H2Script.stream().headers(200, false, "content-type", "application/json",
                "content-encoding", "gzip").data(bomb, true);
        try (AdversaryH2Server server = AdversaryH2Server.builder().scripts(bombAnswer, H2Script.ok()).start();
             ConnectionPoolManager client = oneMiBLimit().h2cPriorKnowledge(true).build()) {
            HttpRequest get = HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build();
            assertThat(outcome(client.send(get))).isInstanceOfSatisfying(LimitExceededException.class,
                    e -> assertThat(e.limit()).isEqualTo(LimitExceededException.Limit.BODY));
            assertThat(client.stats(get.route()).leasesOut()).as("the stream's slot is free").isZero();
            assertThat(within(client.send(get)).status()).isEqualTo(200);
            assertThat(server.connections()).as("only the stream was reset").isEqualTo(1);
        }
        NettyLeakCheck.assertNoLeaks();
    }

    /** The same bomb in one write of an HTTP/1.1 body: typed failure, the connection's slot free, the next answer intact. */
    @Test
    void aSingleWriteBombOverHttp1FailsWithTheBodyLimitAndFreesTheConnection() throws Exception {
        byte[] bomb = gzip(new byte[15 << 20]);
        Http1Script bombAnswer = Http1Script.reply().send(("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                + "content-encoding: gzip\r\ncontent-length: " + bomb.length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII)).send(bomb);
        try (AdversaryHttp1Server server = AdversaryHttp1Server.builder().scripts(bombAnswer, Http1Script.ok()).start();
             ConnectionPoolManager client = oneMiBLimit().build()) {
            HttpRequest get = HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build();
            assertThat(outcome(client.send(get))).isInstanceOfSatisfying(LimitExceededException.class,
                    e -> assertThat(e.limit()).isEqualTo(LimitExceededException.Limit.BODY));
            assertThat(client.stats(get.route()).leasesOut()).as("the connection's slot is free").isZero();
            // Whether the next request gets a new connection depends on whether the rest of the bomb (its length
            // is known) was read before the cancel ran: read to its end, the connection is clean and reused;
            // otherwise it is closed. Either way the next answer is the next response, not bomb bytes.
            HttpResponse next = within(client.send(get));
            assertThat(next.status()).isEqualTo(200);
            assertThat(next.bodyAsString()).isEqualTo("ok");
        }
        NettyLeakCheck.assertNoLeaks();
    }

    private static ConnectionPoolManager.Builder oneMiBLimit() {
        return ConnectionPoolManager.builder().poolConfig(AdversaryClients.pool()).timeouts(AdversaryClients.timeouts())
                .limits(new Limits(Limits.defaults().maxHeaderBlockBytes(), 1 << 20, Limits.defaults().maxSseLineBytes()));
    }

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

    @Test
    void aCorruptOrTruncatedStreamIsAProtocolError() throws Exception {
        byte[] gz = gzip(JSON.getBytes(StandardCharsets.UTF_8));
        byte[] corrupt = gz.clone();
        for (int i = 12; i < 40; i++) {
            corrupt[i] ^= 0x5a;
        }
        byte[] truncated = Arrays.copyOf(gz, gz.length - 12);
        for (byte[] body : new byte[][] {corrupt, truncated}) {
            H2Script answer = H2Script.stream().headers(200, false, "content-encoding", "gzip").data(body, true);
            try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(answer).start();
                 ConnectionPoolManager client = h2c()) {
                HttpRequest get = HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build();
                assertThat(outcome(client.send(get))).isInstanceOf(ProtocolException.class);
                assertThat(client.stats(get.route()).leasesOut()).isZero();
            }
        }
    }

    @Test
    void aCallerThatSetsItsOwnAcceptEncodingGetsTheBytesAsTheyCame() throws Exception {
        byte[] gz = gzip(JSON.getBytes(StandardCharsets.UTF_8));
        H2Script answer = H2Script.stream().headers(200, false, "content-encoding", "gzip").data(gz, true);
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(answer).start();
             ConnectionPoolManager client = h2c()) {
            HttpRequest get = HttpRequest.newBuilder(server.uri().resolve("/v1/models")).header("accept-encoding", "gzip")
                    .build();
            HttpResponse r = within(client.send(get));
            assertThat(r.body()).isEqualTo(gz);
            assertThat(r.headers().get("content-encoding")).isEqualTo("gzip");
        }
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(H2Script.ok()).start();
             ConnectionPoolManager client = ConnectionPoolManager.builder().h2cPriorKnowledge(true)
                     .decompressResponses(false).build()) {
            within(client.send(HttpRequest.newBuilder(server.uri().resolve("/")).build()));
            assertThat(server.stream(1).headers()).as("off: nothing offered").doesNotContainKey("accept-encoding");
        }
    }

    private static byte[] gzip(byte[] in) throws Exception {
        return WindowRespectingH2Server.gzip(in);
    }

    private static byte[] deflate(byte[] in) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (DeflaterOutputStream z = new DeflaterOutputStream(out)) {
            z.write(in);
        }
        return out.toByteArray();
    }
}

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
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.DeflaterOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Transparent decompression against servers that compress (RFC 9110 §8.4: {@code content-encoding}
 * names the codings applied, in order; a client that offered {@code gzip, deflate} must undo them).
 * The answer is the JSON the server compressed, read through every API; a body that inflates past
 * the body limit (a decompression bomb: 64 kB of gzip, 64 MB inflated) fails typed and frees the
 * connection; a corrupt or truncated stream is a protocol error; a caller that sets its own
 * {@code accept-encoding} gets the bytes as they came.
 */
@Timeout(30)
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

package io.sluice.http.adversary;

import static io.sluice.http.adversary.AdversaryClients.during;
import static io.sluice.http.adversary.AdversaryClients.h2c;
import static io.sluice.http.adversary.AdversaryClients.readAll;
import static io.sluice.http.adversary.AdversaryClients.readEvents;
import static io.sluice.http.adversary.AdversaryClients.within;
import static io.sluice.http.faults.FaultSupport.assertAccountingExact;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http2.Http2Error;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.StreamingResponse;
import io.sluice.http.TlsOptions;
import io.sluice.http.sse.SseEvent;
import io.sluice.testkit.adversary.AdversaryH2Server;
import io.sluice.testkit.adversary.H2Script;
import io.sluice.testkit.adversary.H2StreamRecord;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * RFC 9113 §8.1: "A server can send a complete response prior to the client sending an entire
 * request if the response does not depend on any portion of the request that has not been sent
 * and received. When this is true, a server MAY request that the client abort transmission of a
 * request without error by sending a RST_STREAM with an error code of NO_ERROR after sending a
 * complete response (i.e., a frame with the END_STREAM flag set). Clients MUST NOT discard
 * responses as a result of receiving such a RST_STREAM."
 *
 * <p>The server answers a POST whose body is larger than the window it grants (65 535 bytes,
 * never more) with HEADERS + DATA(END_STREAM), then RST_STREAM(NO_ERROR) or nothing at all. The
 * caller must get the whole response through {@code send()}, {@code stream()} and SSE parsing;
 * the request must not be sent again; the slot must be freed exactly once.
 */
@Timeout(30)
class EarlyResponseAdversaryTest {
    private static final int ONE_MIB = 1 << 20;
    private static final int TWO_HUNDRED_KB = 200_000;
    private static final String BODY = "{\"answer\":\"early\"}";
    private static final String SSE_BODY = "data: early\n\ndata: [DONE]\n\n";

    /** How the caller reads the response. */
    enum Api { SEND, STREAM, SSE }

    static Stream<Arguments> rows() {
        return Stream.of(Api.values()).flatMap(api -> Stream.of(
                Arguments.of(api, ONE_MIB, 200, true),
                Arguments.of(api, TWO_HUNDRED_KB, 200, true),
                Arguments.of(api, ONE_MIB, 413, true),
                Arguments.of(api, ONE_MIB, 200, false),
                Arguments.of(api, TWO_HUNDRED_KB, 413, false)));
    }

    /**
     * The early answer, then RST_STREAM(NO_ERROR) when {@code reset}; without it the server simply
     * never grants more window, and the client's upload can never finish.
     */
    private static H2Script earlyAnswer(Api api, int status, boolean reset) {
        boolean sse = api == Api.SSE;
        H2Script s = H2Script.stream()
                .headers(status, false, "content-type", sse ? "text/event-stream" : "application/json")
                .data(sse ? SSE_BODY : BODY, true);
        return reset ? s.rstStream(Http2Error.NO_ERROR) : s;
    }

    @ParameterizedTest(name = "{0}: {1}-byte POST, {2} early, RST_STREAM(NO_ERROR)={3}")
    @MethodSource("rows")
    void completeEarlyResponseReachesTheCallerOnce(Api api, int bodyBytes, int status, boolean reset) {
        try (AdversaryH2Server server = AdversaryH2Server.builder()
                .defaultScript(earlyAnswer(api, status, reset)).start();
             ConnectionPoolManager client = h2c()) {
            HttpRequest post = HttpRequest.newBuilder(server.uri().resolve("/v1/upload"))
                    .POST(new byte[bodyBytes]).header("content-type", "application/octet-stream").build();

            switch (api) {
                case SEND -> {
                    HttpResponse r = during("send()", server::streams, () -> within(client.send(post)));
                    assertThat(r.status()).isEqualTo(status);
                    assertThat(r.bodyAsString()).isEqualTo(BODY);
                }
                case STREAM -> {
                    try (StreamingResponse r = during("stream() (the head)", server::streams,
                            () -> within(client.stream(post)))) {
                        assertThat(r.status()).isEqualTo(status);
                        byte[] body = during("readChunk() to the end", server::streams, () -> readAll(r));
                        assertThat(new String(body, StandardCharsets.UTF_8)).isEqualTo(BODY);
                    }
                }
                case SSE -> {
                    try (StreamingResponse r = during("stream() (the head)", server::streams,
                            () -> within(client.stream(post)))) {
                        assertThat(r.status()).isEqualTo(status);
                        List<SseEvent> events = during("nextEvent() to the end", server::streams, () -> readEvents(r));
                        assertThat(events).extracting(SseEvent::data).containsExactly("early", "[DONE]");
                    }
                }
            }

            assertAccountingExact(client);
            List<H2StreamRecord> streams = server.streams();
            assertThat(streams).as("streams the server saw (the POST must arrive exactly once)").hasSize(1);
            assertThat(streams.get(0).method()).isEqualTo("POST");
            assertThat(streams.get(0).endStreamReceived())
                    .as("the client cannot have finished a body larger than the window it was granted").isFalse();
        }
    }

    /** The same over TLS (ALPN h2), once: the early answer and RST_STREAM(NO_ERROR) reach the caller through send(). */
    @org.junit.jupiter.api.Test
    void completeEarlyResponseOverTls() {
        try (AdversaryH2Server server = AdversaryH2Server.builder().tls(true)
                .defaultScript(earlyAnswer(Api.SEND, 200, true)).start();
             ConnectionPoolManager client = ConnectionPoolManager.builder().poolConfig(AdversaryClients.pool())
                     .timeouts(AdversaryClients.timeouts())
                     .tls(TlsOptions.builder().trustCertificatePem(server.certificatePem()).build()).build()) {
            HttpRequest post = HttpRequest.newBuilder(server.uri().resolve("/v1/upload")).POST(new byte[ONE_MIB]).build();
            HttpResponse r = during("send() over TLS", server::streams, () -> within(client.send(post)));
            assertThat(r.protocol()).isEqualTo(io.sluice.http.Protocol.H2);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyAsString()).isEqualTo(BODY);
            assertAccountingExact(client);
            assertThat(server.streams()).hasSize(1);
        }
    }
}

package io.sluice.http.adversary;

import static io.sluice.http.adversary.AdversaryClients.h2c;
import static io.sluice.http.adversary.AdversaryClients.http1;
import static io.sluice.http.adversary.AdversaryClients.outcome;
import static io.sluice.http.adversary.AdversaryClients.within;
import static io.sluice.http.faults.FaultSupport.assertAccountingExact;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http2.Http2Error;
import io.sluice.http.ConnectionLostException;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.testkit.adversary.AdversaryH2Server;
import io.sluice.testkit.adversary.AdversaryHttp1Server;
import io.sluice.testkit.adversary.H2Script;
import io.sluice.testkit.adversary.H2StreamRecord;
import io.sluice.testkit.adversary.Http1RequestRecord;
import io.sluice.testkit.adversary.Http1Script;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Replay safety, from the outside. The rule: a request is replayed only when the server provably
 * did not process it: it was never written; its stream is above a GOAWAY's last-stream-id; it was
 * refused (REFUSED_STREAM); or the connection failed before its last byte was written. Idempotent
 * methods (and requests carrying {@code Idempotency-Key}) may also be replayed once after a
 * stale-connection failure before any response byte. A POST that was fully written and then lost
 * is not replayed: the caller gets {@link ConnectionLostException} with
 * {@code possiblyProcessed() == true}.
 *
 * <p>Every scenario first answers one request, so the lost one runs on a reused connection, the
 * case where a "stale connection" replay is tempting.
 */
@Timeout(30)
class ReplaySafetyAdversaryTest {
    private static final String PATH = "/v1/chat/completions";

    private static HttpRequest get(URI base) {
        return HttpRequest.newBuilder(base.resolve(PATH)).GET().build();
    }

    private static HttpRequest post(URI base, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(PATH)).POST("{\"model\":\"m\"}")
                .header("content-type", "application/json");
        for (int i = 0; i + 1 < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return b.build();
    }

    // ---- HTTP/2 ----

    /** (a) A POST fully received (END_STREAM seen), then the connection closes unanswered: not replayed. */
    @Test
    void h2FullyWrittenPostThenConnectionLostIsNotReplayed() {
        try (AdversaryH2Server server = AdversaryH2Server.builder()
                .script(2, H2Script.stream().awaitRequestBody().closeConnection()).start();
             ConnectionPoolManager client = h2c()) {
            assertThat(within(client.send(get(server.uri()))).status()).isEqualTo(200);

            Object outcome = outcome(client.send(post(server.uri())));

            List<H2StreamRecord> posts = server.streams().stream().filter(s -> "POST".equals(s.method())).toList();
            assertThat(posts).as("POSTs the server received (a fully written POST must not be replayed)").hasSize(1);
            assertThat(posts.get(0).endStreamReceived()).isTrue();
            assertThat(outcome).as("what the caller got").isInstanceOf(ConnectionLostException.class);
            assertThat(((ConnectionLostException) outcome).possiblyProcessed()).as("possiblyProcessed()").isTrue();
            assertAccountingExact(client);
        }
    }

    /** (b) The same with GET: replayed once, on a new connection, and the replay's 200 reaches the caller. */
    @Test
    void h2FullyWrittenGetThenConnectionLostIsReplayedOnce() {
        try (AdversaryH2Server server = AdversaryH2Server.builder()
                .script(2, H2Script.stream().awaitRequestBody().closeConnection()).start();
             ConnectionPoolManager client = h2c()) {
            assertThat(within(client.send(get(server.uri()))).status()).isEqualTo(200);

            HttpResponse r = within(client.send(get(server.uri())));

            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyAsString()).isEqualTo("ok");
            assertThat(server.streams()).as("the first GET, the lost GET, its one replay").hasSize(3);
            assertThat(server.stream(3).connectionNumber()).as("the replay's connection").isEqualTo(2);
            assertAccountingExact(client);
        }
    }

    /** (d) A POST on a stream above the GOAWAY's last-stream-id was never processed: replayed on a new connection. */
    @Test
    void h2PostAboveGoAwayLastStreamIdIsReplayed() {
        try (AdversaryH2Server server = AdversaryH2Server.builder()
                .script(2, H2Script.stream().awaitRequestBody().goAwayBelowThisStream(Http2Error.NO_ERROR)
                        .pause(200).closeConnection())
                .start();
             ConnectionPoolManager client = h2c()) {
            assertThat(within(client.send(get(server.uri()))).status()).isEqualTo(200);

            HttpResponse r = within(client.send(post(server.uri())));

            assertThat(r.status()).isEqualTo(200);
            assertThat(server.streams()).extracting(H2StreamRecord::method).containsExactly("GET", "POST", "POST");
            assertThat(server.stream(3).connectionNumber()).as("the replay's connection").isEqualTo(2);
            assertAccountingExact(client);
        }
    }

    /** (d) REFUSED_STREAM means "not processed": the POST is replayed and succeeds. */
    @Test
    void h2RefusedPostIsReplayed() {
        try (AdversaryH2Server server = AdversaryH2Server.builder()
                .script(2, H2Script.stream().rstStream(Http2Error.REFUSED_STREAM)).start();
             ConnectionPoolManager client = h2c()) {
            assertThat(within(client.send(get(server.uri()))).status()).isEqualTo(200);

            HttpResponse r = within(client.send(post(server.uri())));

            assertThat(r.status()).isEqualTo(200);
            assertThat(server.streams()).extracting(H2StreamRecord::method).containsExactly("GET", "POST", "POST");
            assertAccountingExact(client);
        }
    }

    /** (e) A POST carrying Idempotency-Key is marked idempotent: fully written then lost, it may be replayed once. */
    @Test
    void h2PostWithIdempotencyKeyIsReplayedOnce() {
        try (AdversaryH2Server server = AdversaryH2Server.builder()
                .script(2, H2Script.stream().awaitRequestBody().closeConnection()).start();
             ConnectionPoolManager client = h2c()) {
            assertThat(within(client.send(get(server.uri()))).status()).isEqualTo(200);

            HttpResponse r = within(client.send(post(server.uri(), "Idempotency-Key", "key-42")));

            assertThat(r.status()).isEqualTo(200);
            List<H2StreamRecord> posts = server.streams().stream().filter(s -> "POST".equals(s.method())).toList();
            assertThat(posts).as("the lost POST and its one replay").hasSize(2);
            assertThat(posts).extracting(s -> s.header("idempotency-key")).containsOnly("key-42");
            assertAccountingExact(client);
        }
    }

    // ---- HTTP/1.1 (c), on a reused keep-alive connection ----

    /** (c) A POST fully read by the server, which then closes (FIN) without answering: not replayed. */
    @Test
    void http1FullyWrittenPostThenConnectionLostIsNotReplayed() {
        try (AdversaryHttp1Server server = AdversaryHttp1Server.builder()
                .script(2, Http1Script.reply().readBody().close()).start();
             ConnectionPoolManager client = http1()) {
            assertThat(within(client.send(get(server.uri()))).status()).isEqualTo(200);

            Object outcome = outcome(client.send(post(server.uri())));

            List<Http1RequestRecord> posts = server.requests().stream().filter(r -> "POST".equals(r.method())).toList();
            assertThat(posts).as("POSTs the server received (a fully written POST must not be replayed)").hasSize(1);
            assertThat(posts.get(0).connectionNumber()).as("the POST reused the keep-alive connection").isEqualTo(1);
            assertThat(posts.get(0).bodyComplete()).isTrue();
            assertThat(outcome).as("what the caller got").isInstanceOf(ConnectionLostException.class);
            assertThat(((ConnectionLostException) outcome).possiblyProcessed()).as("possiblyProcessed()").isTrue();
            assertAccountingExact(client);
        }
    }

    /** (c) The same with GET: replayed once on a new connection; the caller sees the replay's 200. */
    @Test
    void http1FullyWrittenGetThenConnectionLostIsReplayedOnce() {
        try (AdversaryHttp1Server server = AdversaryHttp1Server.builder()
                .script(2, Http1Script.reply().readBody().close()).start();
             ConnectionPoolManager client = http1()) {
            assertThat(within(client.send(get(server.uri()))).status()).isEqualTo(200);

            HttpResponse r = within(client.send(get(server.uri())));

            assertThat(r.status()).isEqualTo(200);
            assertThat(server.requests()).extracting(Http1RequestRecord::connectionNumber)
                    .as("first GET and the lost GET on connection 1, the replay on connection 2").containsExactly(1, 1, 2);
            assertAccountingExact(client);
        }
    }

    /** (e) over HTTP/1.1: a POST with Idempotency-Key, fully written then lost, is replayed once. */
    @Test
    void http1PostWithIdempotencyKeyIsReplayedOnce() {
        try (AdversaryHttp1Server server = AdversaryHttp1Server.builder()
                .script(2, Http1Script.reply().readBody().close()).start();
             ConnectionPoolManager client = http1()) {
            assertThat(within(client.send(get(server.uri()))).status()).isEqualTo(200);

            HttpResponse r = within(client.send(post(server.uri(), "Idempotency-Key", "key-7")));

            assertThat(r.status()).isEqualTo(200);
            List<Http1RequestRecord> posts = server.requests().stream().filter(x -> "POST".equals(x.method())).toList();
            assertThat(posts).as("the lost POST and its one replay").hasSize(2);
            assertThat(posts).extracting(x -> x.header("idempotency-key")).containsOnly("key-7");
            assertAccountingExact(client);
        }
    }
}

package io.sluice.http.adversary;

import static io.sluice.http.adversary.AdversaryClients.outcome;
import static io.sluice.http.adversary.AdversaryClients.within;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http2.Http2Error;
import io.sluice.http.BodyChunk;
import io.sluice.http.CallListener;
import io.sluice.http.ConnectFailedException;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.RecordingCallListener;
import io.sluice.http.RequestTimeoutException;
import io.sluice.http.StreamingResponse;
import io.sluice.http.Timeouts;
import io.sluice.testkit.adversary.AdversaryH2Server;
import io.sluice.testkit.adversary.H2Script;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The listener's events when a server misbehaves, scripted frame by frame: a refused stream is a
 * replay, a 503 a status retry, a server that never answers a REQUEST-phase timeout, a port that
 * refuses connections an ACQUIRE-phase connect failure, and a response the caller closes half-way
 * a cancel. Each call ends with exactly one last event.
 */
@Timeout(30)
class CallListenerFailuresTest {

    private static ConnectionPoolManager client(RecordingCallListener l, Timeouts timeouts) {
        return ConnectionPoolManager.builder().h2cPriorKnowledge(true).poolConfig(AdversaryClients.pool())
                .timeouts(timeouts).callListener(CallListener.Factory.of(l)).build();
    }

    @Test
    void aRefusedStreamIsAReplayAndA503AStatusRetry() {
        RecordingCallListener l = new RecordingCallListener();
        H2Script refused = H2Script.stream().rstStream(Http2Error.REFUSED_STREAM);
        H2Script busy = H2Script.stream().headers(503, false, "retry-after", "0").data("busy", true);
        try (AdversaryH2Server server = AdversaryH2Server.builder().scripts(refused, busy, H2Script.ok()).start();
             ConnectionPoolManager client = client(l, AdversaryClients.timeouts())) {
            assertThat(within(client.send(HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build())).status())
                    .isEqualTo(200);
        }
        assertThat(l.eventsAtEnd()).containsSubsequence("acquireStart 1", "replay refused_stream", "acquireStart 2",
                "responseHeaders 503", "statusRetry 503", "acquireStart 3", "responseHeaders 200", "callEnd 200");
        assertThat(l.events()).filteredOn(e -> e.startsWith("call")).hasSize(2); // callStart and one last event
    }

    @Test
    void whatAListenerPropagatesIsOnEveryAttemptAndABadResultIsIgnored() {
        CallListener moving = new CallListener() {
            @Override
            public HttpRequest propagate(HttpRequest r) {
                return HttpRequest.newBuilder(URI.create("http://127.0.0.1:1/elsewhere")).build();
            }
        };
        H2Script busy = H2Script.stream().headers(503, false, "retry-after", "0").data("busy", true);
        try (AdversaryH2Server server = AdversaryH2Server.builder().scripts(busy, H2Script.ok()).start();
             ConnectionPoolManager client = ConnectionPoolManager.builder().h2cPriorKnowledge(true)
                     .poolConfig(AdversaryClients.pool()).timeouts(AdversaryClients.timeouts())
                     .callListener((route, request) -> newTagging())
                     .callListener(CallListener.Factory.of(moving)).build()) {
            assertThat(within(client.send(HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build())).status())
                    .isEqualTo(200);
            assertThat(server.stream(1).headers().get("traceparent"))
                    .containsExactly("00-0af7651916cd43dd8448eb211c80319c-0000000000000001-01");
            assertThat(server.stream(2).headers().get("traceparent")).as("the retry carries its own")
                    .containsExactly("00-0af7651916cd43dd8448eb211c80319c-0000000000000002-01");
        }
    }

    /** A fresh per-call listener that numbers the call's attempts in a trace context header. */
    private static CallListener newTagging() {
        return new CallListener() {
            private int attempt;

            @Override
            public HttpRequest propagate(HttpRequest r) {
                return r.toBuilder().setHeader("traceparent", "00-0af7651916cd43dd8448eb211c80319c-00000000000000"
                        + String.format("%02d", ++attempt) + "-01").build();
            }
        };
    }

    @Test
    void aServerThatNeverAnswersFailsTheCallInTheRequestPhase() {
        RecordingCallListener l = new RecordingCallListener();
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(H2Script.stream()).start();
             ConnectionPoolManager client = client(l, new Timeouts(Duration.ofSeconds(5), Duration.ofMillis(300),
                     Duration.ofSeconds(5), null))) {
            assertThat(outcome(client.send(HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build())))
                    .isInstanceOf(RequestTimeoutException.class);
        }
        assertThat(l.eventsAtEnd()).endsWith("requestSending", "requestSent", "callFailed REQUEST");
        assertThat(l.failure()).isInstanceOfSatisfying(RequestTimeoutException.class,
                e -> assertThat(e.phase()).isEqualTo(RequestTimeoutException.Phase.HEADERS));
    }

    @Test
    void aPortThatRefusesConnectionsFailsTheCallInTheAcquirePhase() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        RecordingCallListener l = new RecordingCallListener();
        try (ConnectionPoolManager client = client(l, AdversaryClients.timeouts())) {
            Object out = outcome(client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + closedPort + "/v1/models")).build()));
            assertThat(out).isInstanceOf(ConnectFailedException.class);
        }
        assertThat(l.eventsAtEnd()).containsExactly("callStart GET", "acquireStart 1", "callFailed ACQUIRE");
        assertThat(l.failure()).isInstanceOf(ConnectFailedException.class);
    }

    @Test
    void aResponseClosedHalfWayIsACancelNotAFailure() {
        RecordingCallListener l = new RecordingCallListener();
        H2Script endless = H2Script.stream().headers(200, false).data("first", false);
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(endless).start();
             ConnectionPoolManager client = client(l, AdversaryClients.timeouts())) {
            StreamingResponse r = within(client.stream(HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build()));
            try (BodyChunk c = within(r.readChunk())) {
                assertThat(c).isNotNull();
            }
            r.close();
            assertThat(l.eventsAtEnd()).endsWith("responseHeaders 200", "firstBodyByte", "callCancelled");
        }
    }
}

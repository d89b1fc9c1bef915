package io.sluice.http.adversary;

import static io.sluice.http.adversary.AdversaryClients.outcome;
import static io.sluice.http.adversary.AdversaryClients.within;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.CallListener;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.Headers;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.LimitExceededException;
import io.sluice.http.Limits;
import io.sluice.http.RecordingCallListener;
import io.sluice.http.StreamingResponse;
import io.sluice.testkit.adversary.AdversaryH2Server;
import io.sluice.testkit.adversary.H2Script;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.SubmissionPublisher;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review 6: the call listener's contract (docs/call-events.md) against scripted HTTP/2 servers.
 * Each test failed on the code it was written against.
 */
@Timeout(30)
class CallListenerEdgeCasesTest {

    private static ConnectionPoolManager.Builder h2c() {
        return ConnectionPoolManager.builder().h2cPriorKnowledge(true).poolConfig(AdversaryClients.pool())
                .timeouts(AdversaryClients.timeouts());
    }

    /**
     * send() of a body over maxBodyBytes: the caller gets a LimitExceededException, so the listener must hear
     * callFailed(BODY, that exception). The aggregator stops the body the way a caller's close() does, and
     * Call.Attempt.onFailure takes body.cancelledByCaller() for the caller's doing: callCancelled.
     */
    @Test
    void aSendWhoseBodyIsOverTheLimitIsAFailureNotACancel() {
        RecordingCallListener l = new RecordingCallListener();
        H2Script big = H2Script.stream().headers(200, false).data(4096, false).data(4096, true);
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(big).start();
             ConnectionPoolManager client = h2c().limits(new Limits(64 * 1024, 1024, 1024))
                     .callListener(CallListener.Factory.of(l)).build()) {
            Object out = outcome(client.send(HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build()));
            assertThat(out).isInstanceOf(LimitExceededException.class);
            assertThat(l.eventsAtEnd()).last().isEqualTo("callFailed BODY");
            assertThat(l.failure()).isInstanceOf(LimitExceededException.class);
        }
    }

    /** The same with a declared content-length over the limit (refused before any body byte is read). */
    @Test
    void aSendWhoseDeclaredLengthIsOverTheLimitIsAFailureNotACancel() {
        RecordingCallListener l = new RecordingCallListener();
        H2Script big = H2Script.stream().headers(200, false, "content-length", "8192").data(8192, true);
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(big).start();
             ConnectionPoolManager client = h2c().limits(new Limits(64 * 1024, 1024, 1024))
                     .callListener(CallListener.Factory.of(l)).build()) {
            Object out = outcome(client.send(HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build()));
            assertThat(out).isInstanceOf(LimitExceededException.class);
            assertThat(l.eventsAtEnd()).last().isEqualTo("callFailed BODY");
        }
    }

    /** An SSE line over maxSseLineBytes fails nextEvent() with LimitExceededException: again reported as a cancel. */
    @Test
    void anSseLineOverTheLimitIsAFailureNotACancel() {
        RecordingCallListener l = new RecordingCallListener();
        H2Script sse = H2Script.stream().headers(200, false, "content-type", "text/event-stream")
                .data("data: " + "x".repeat(4096) + "\n\n", false);
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(sse).start();
             ConnectionPoolManager client = h2c().limits(new Limits(64 * 1024, 1 << 20, 1024))
                     .callListener(CallListener.Factory.of(l)).build()) {
            StreamingResponse r = within(client.stream(HttpRequest.newBuilder(server.uri().resolve("/v1/chat")).build()));
            Object out = outcome(r.nextEvent());
            assertThat(out).isInstanceOf(LimitExceededException.class);
            assertThat(l.eventsAtEnd()).last().isEqualTo("callFailed BODY");
        }
    }

    /**
     * The documented order is requestSending, requestSent, responseHeaders, and "a request the server answered
     * before its body was written gets no requestSent". A server that answers at once and grants the rest of the
     * request body afterwards (HTTP/2 flow control) gets requestSent after responseHeaders: Attempt.onRequestWritten
     * checks only {@code terminal}, not whether the head already came.
     */
    @Test
    void requestSentNeverComesAfterTheResponseHead() {
        RecordingCallListener l = new RecordingCallListener();
        // answer first, then grant the body beyond the initial 64 KiB window, then end the response
        H2Script early = H2Script.stream().headers(200, false).grantRequestBody().awaitRequestBody().data("ok", true);
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(early).start();
             ConnectionPoolManager client = h2c().callListener(CallListener.Factory.of(l)).build()) {
            HttpResponse r = within(client.send(HttpRequest.newBuilder(server.uri().resolve("/v1/files"))
                    .POST(new byte[256 * 1024]).build()));
            assertThat(r.status()).isEqualTo(200);
        }
        var events = l.eventsAtEnd();
        int head = events.indexOf("responseHeaders 200");
        int sent = events.indexOf("requestSent");
        assertThat(sent < 0 || sent < head).as("requestSent after responseHeaders: %s", events).isTrue();
    }

    /**
     * newConnection is "true when no call had used the connection before". A factory may decline a call
     * (CallListener.NONE), and only calls with a listener claim the connection's first use: the first call that
     * is listened to is told newConnection=true (and given the set-up) on a connection another call already used.
     */
    @Test
    void aConnectionUsedByADeclinedCallIsNotNewToTheNextCall() {
        RecordingCallListener l = new RecordingCallListener();
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(H2Script.ok()).start();
             ConnectionPoolManager client = h2c().callListener((route, request) ->
                     request.headers().contains("x-listen") ? l : CallListener.NONE).build()) {
            assertThat(within(client.send(HttpRequest.newBuilder(server.uri().resolve("/first")).build())).status())
                    .isEqualTo(200);
            assertThat(within(client.send(HttpRequest.newBuilder(server.uri().resolve("/second"))
                    .header("x-listen", "1").build())).status()).isEqualTo(200);
            assertThat(server.connections()).as("both calls on one connection").isEqualTo(1);
        }
        assertThat(l.eventsAtEnd()).contains("acquireEnd new=false").doesNotContain("connectionSetUp");
    }

    /**
     * The caller cancels while the request is in flight; callCancelled runs on the caller's thread before the
     * attempt is stopped on its loop, and nothing keeps the loop from delivering events meanwhile: the response head
     * arriving then is reported after the last event (and concurrently with it). To make the interleaving
     * certain, the listener's callCancelled waits (bounded) for the loop's responseHeaders; the request body's end,
     * which lets the server answer, is released from inside callCancelled.
     */
    @Test
    void noEventComesAfterCallCancelled() throws Exception {
        SubmissionPublisher<ByteBuffer> body = new SubmissionPublisher<>();
        CountDownLatch headSeen = new CountDownLatch(1);
        RecordingCallListener rec = new RecordingCallListener();
        CallListener l = new Forwarding(rec) {
            @Override
            public void responseHeaders(int status, Headers headers, long nanosSinceStart) {
                super.responseHeaders(status, headers, nanosSinceStart);
                headSeen.countDown();
            }

            @Override
            public void callCancelled() {
                super.callCancelled();
                body.close(); // the server answers once the request ended
                try {
                    headSeen.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        H2Script answerAtEnd = H2Script.stream().grantRequestBody().awaitRequestBody().headers(200).data("ok", true);
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(answerAtEnd).start();
             ConnectionPoolManager client = h2c().callListener(CallListener.Factory.of(l)).build()) {
            CompletableFuture<StreamingResponse> f = client.stream(HttpRequest.newBuilder(server.uri().resolve("/v1/x"))
                    .method("POST").body(body).build());
            assertThat(server.awaitStreams(1, java.time.Duration.ofSeconds(10))).isTrue();
            f.cancel(true);
            headSeen.await(10, TimeUnit.SECONDS);
        }
        java.util.List<String> events = rec.eventsAtEnd();
        assertThat(events.subList(events.indexOf("callCancelled") + 1, events.size()))
                .as("events after callCancelled: %s", events).isEmpty();
    }

    /**
     * "A throwing listener never changes the call": GuardedCallListener catches RuntimeException only. A listener
     * written in Kotlin (or Lombok's @SneakyThrows, or any rethrow of a checked exception) throws an IOException
     * from responseHeaders without declaring it; it escapes the guard into the connection's frame handling.
     */
    @Test
    void aListenerThrowingACheckedExceptionChangesNothing() {
        CallListener throwing = new CallListener() {
            @Override
            public void responseHeaders(int status, Headers headers, long nanosSinceStart) {
                sneaky(new java.io.IOException("metrics backend down"));
            }
        };
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(H2Script.ok()).start();
             ConnectionPoolManager client = h2c().callListener(CallListener.Factory.of(throwing)).build()) {
            Object out = outcome(client.send(HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build()));
            assertThat(out).isInstanceOfSatisfying(HttpResponse.class, r -> assertThat(r.status()).isEqualTo(200));
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> void sneaky(Throwable t) throws T {
        throw (T) t;
    }

    /**
     * Every call that starts gets one last event, and send() answers with a future. A client on shared resources
     * that were closed under it (or a client closing as the call starts) has a shut-down timer: Call.begin() emits
     * callStart, then ctx.scheduler().schedule(totalTimedOut) throws RejectedExecutionException out of send(), and
     * the listener (a span, an observation) never hears an end.
     */
    @Test
    void aCallOnClosedSharedResourcesStillEndsItsListenerAndItsFuture() {
        RecordingCallListener l = new RecordingCallListener();
        io.sluice.http.SluiceResources shared = io.sluice.http.SluiceResources.builder().ioThreads(1).build();
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(H2Script.ok()).start();
             ConnectionPoolManager client = h2c().resources(shared).callListener(CallListener.Factory.of(l)).build()) {
            // the route's pool exists (its creation schedules housekeeping, which a closed timer refuses too)
            assertThat(within(client.send(HttpRequest.newBuilder(server.uri().resolve("/warm")).build())).status())
                    .isEqualTo(200);
            l.eventsAtEnd();
            shared.close();
            RecordingCallListener first = l;
            Object out;
            try {
                out = outcome(client.send(HttpRequest.newBuilder(server.uri().resolve("/v1/models"))
                        .totalTimeout(java.time.Duration.ofSeconds(5)).build()));
            } catch (RuntimeException thrown) {
                out = thrown;
            }
            assertThat(out).as("send() fails its future with a SluiceHttpException, never throws")
                    .isInstanceOf(io.sluice.http.SluiceHttpException.class);
            java.util.List<String> events = first.events();
            assertThat(events.subList(events.lastIndexOf("callStart GET"), events.size()))
                    .as("the second call's events: %s", events)
                    .anyMatch(e -> e.startsWith("callFailed") || e.equals("callEnd 200"));
        }
    }

    /** Passes every event on. */
    static class Forwarding implements CallListener {
        private final CallListener d;

        Forwarding(CallListener d) {
            this.d = d;
        }

        @Override public void callStart(HttpRequest r) { d.callStart(r); }
        @Override public void acquireStart(int a) { d.acquireStart(a); }
        @Override public void connectionSetUp(io.sluice.http.ConnectionSetup s) { d.connectionSetUp(s); }
        @Override public void acquireEnd(long w, io.sluice.http.ConnectionInfo c, boolean n) { d.acquireEnd(w, c, n); }
        @Override public HttpRequest propagate(HttpRequest a) { return d.propagate(a); }
        @Override public void requestSending(HttpRequest s) { d.requestSending(s); }
        @Override public void requestSent() { d.requestSent(); }
        @Override public void responseHeaders(int s, Headers h, long n) { d.responseHeaders(s, h, n); }
        @Override public void firstBodyByte(long n) { d.firstBodyByte(n); }
        @Override public void replay(String r, Throwable f) { d.replay(r, f); }
        @Override public void statusRetry(int s, java.time.Duration delay) { d.statusRetry(s, delay); }
        @Override public void callEnd(int s, long b, long n) { d.callEnd(s, b, n); }
        @Override public void callFailed(Phase p, io.sluice.http.SluiceHttpException f) { d.callFailed(p, f); }
        @Override public void callCancelled() { d.callCancelled(); }
    }
}

package io.sluice.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http2.Http2Error;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.RateLimitedException;
import io.sluice.http.Timeouts;
import io.sluice.pool.PoolConfig;
import io.sluice.testkit.adversary.AdversaryH2Server;
import io.sluice.testkit.adversary.H2Script;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review findings (wip-review7): each test fails on the code as reviewed. Real sockets against the scripted HTTP/2
 * server; no wall-clock assertions (bounded waits only).
 */
@Timeout(60)
class RateLimiterEdgeCasesTest {

    private static final String KEY = "Bearer sk-review-secret";

    /** Announces {@code remaining} of {@code limit} requests and no reset: the budget does not refill on its own. */
    private static H2Script announcingNoReset(long limit, long remaining) {
        return H2Script.stream().headers(200, false, "x-ratelimit-limit-requests", Long.toString(limit),
                "x-ratelimit-remaining-requests", Long.toString(remaining)).data("{}", true);
    }

    private static H2Script announcing(long limit, long remaining, String reset) {
        return H2Script.stream().headers(200, false, "x-ratelimit-limit-requests", Long.toString(limit),
                "x-ratelimit-remaining-requests", Long.toString(remaining), "x-ratelimit-reset-requests", reset)
                .data("{}", true);
    }

    /** A stream the server holds (answers only after a minute): it keeps the connection's one stream busy. */
    private static H2Script held() {
        return H2Script.stream().pause(60_000).headers(200, false).data("{}", true);
    }

    /** One connection with the server's stream limit: the next attempt waits in the pool for a slot. */
    private static ConnectionPoolManager oneSlotClient(RateLimiter limits) {
        return limits.instrument(ConnectionPoolManager.builder().h2cPriorKnowledge(true).statusRetries(false)
                .poolConfig(PoolConfig.builder().maxConnections(1).minIdle(0).maxRetries(0).build())
                .timeouts(new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(70), Duration.ofSeconds(70), null)))
                .build();
    }

    private static ConnectionPoolManager client(RateLimiter limits) {
        return limits.instrument(ConnectionPoolManager.builder().h2cPriorKnowledge(true).statusRetries(false)
                .poolConfig(PoolConfig.builder().minIdle(0).maxRetries(0).build())
                .timeouts(new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(5), null)))
                .build();
    }

    private static HttpRequest get(AdversaryH2Server server, int seq) {
        return HttpRequest.newBuilder(server.uri().resolve("/v1/models")).header("authorization", KEY)
                .header("x-seq", Integer.toString(seq)).build();
    }

    private static double requestsAvailable(RateLimiter limits) {
        return limits.stats().budgets().get(0).requestsAvailable();
    }

    private static Throwable failure(CompletableFuture<?> f) throws Exception {
        try {
            f.get(10, TimeUnit.SECONDS);
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

    // ------------------------------------------------------------------ finding 1: room of a never-sent attempt lost

    /**
     * An attempt admitted at once, then cancelled by its caller while it waits for a connection, was never sent: its
     * request must come back. The call's last listener event (callCancelled) removes the call from the limiter's map
     * and settles its attempt as "answered" (in-flight only) before Call.onAcquired reports notSent(); abandoned()
     * then finds no call and gives nothing back.
     */
    @Test
    void roomOfAnAttemptCancelledWhileWaitingForAConnectionComesBack() throws Exception {
        try (RateLimiter limits = RateLimiter.builder().build();
             AdversaryH2Server server = AdversaryH2Server.builder().maxConcurrentStreams(1)
                     .scripts(announcingNoReset(10, 5), held()).defaultScript(H2Script.ok()).start();
             ConnectionPoolManager client = oneSlotClient(limits)) {
            assertThat(client.sendBlocking(get(server, 0)).status()).isEqualTo(200);
            assertThat(requestsAvailable(limits)).isEqualTo(5.0);
            CompletableFuture<HttpResponse> a = client.send(get(server, 1)); // holds the only stream
            assertThat(server.awaitStreams(2, Duration.ofSeconds(10))).isTrue();
            CompletableFuture<HttpResponse> b = client.send(get(server, 2)); // admitted at once, waits for a slot
            assertThat(requestsAvailable(limits)).as("A and B admitted").isEqualTo(3.0);
            b.cancel(true);
            Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(requestsAvailable(limits))
                    .as("B was never sent: its request comes back (only A is in flight)").isEqualTo(4.0));
            assertThat(server.streams()).hasSize(2);
            a.cancel(true);
        }
    }

    /** The same with the request's own deadline (TOTAL) passing while it waits for a connection. */
    @Test
    void roomOfAnAttemptWhoseDeadlinePassesWhileWaitingForAConnectionComesBack() throws Exception {
        try (RateLimiter limits = RateLimiter.builder().build();
             AdversaryH2Server server = AdversaryH2Server.builder().maxConcurrentStreams(1)
                     .scripts(announcingNoReset(10, 5), held()).defaultScript(H2Script.ok()).start();
             ConnectionPoolManager client = oneSlotClient(limits)) {
            assertThat(client.sendBlocking(get(server, 0)).status()).isEqualTo(200);
            CompletableFuture<HttpResponse> a = client.send(get(server, 1));
            assertThat(server.awaitStreams(2, Duration.ofSeconds(10))).isTrue();
            HttpRequest b = get(server, 2).toBuilder().totalTimeout(Duration.ofMillis(300)).build();
            assertThat(failure(client.send(b))).isInstanceOf(io.sluice.http.RequestTimeoutException.class);
            Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(requestsAvailable(limits))
                    .as("B timed out before it was sent: its request comes back (only A is in flight)").isEqualTo(4.0));
            a.cancel(true);
        }
    }

    // ------------------------------------------------------------------ finding 2: CallKey collisions, in-flight drift

    /**
     * HttpRequest is immutable, so one object may be sent by two calls at once. The limiter keys its calls by the
     * request's identity: call B's end removes call A's entry, and A's replay (REFUSED_STREAM) is then admitted
     * "untracked", taking one request in flight that no listener ever answers. After every call ended the budget
     * still counts one request in flight: the provider's "5 remaining" reads as 4, for ever.
     */
    @Test
    void oneRequestObjectSentByTwoCallsLeavesNothingInFlightOnceBothEnded() throws Exception {
        try (RateLimiter limits = RateLimiter.builder().build();
             AdversaryH2Server server = AdversaryH2Server.builder().maxConcurrentStreams(1)
                     .scripts(announcingNoReset(10, 5), held(), H2Script.stream().rstStream(Http2Error.REFUSED_STREAM),
                             announcingNoReset(10, 5))
                     .defaultScript(announcingNoReset(10, 5)).start();
             ConnectionPoolManager client = oneSlotClient(limits)) {
            assertThat(client.sendBlocking(get(server, 0)).status()).isEqualTo(200);
            HttpRequest shared = get(server, 1);
            CompletableFuture<HttpResponse> b = client.send(shared); // held by the server
            assertThat(server.awaitStreams(2, Duration.ofSeconds(10))).isTrue();
            CompletableFuture<HttpResponse> a = client.send(shared); // admitted, waits for the slot
            b.cancel(true); // B ends (its listener removes the shared key); its slot goes to A
            assertThat(a.get(10, TimeUnit.SECONDS).status()).as("A refused once, replayed, answered").isEqualTo(200);
            assertThat(server.streams()).hasSize(4);
            // both calls ended; one more call (its own request object) reads the provider's figure again
            assertThat(client.sendBlocking(get(server, 5)).status()).isEqualTo(200);
            assertThat(requestsAvailable(limits))
                    .as("every call ended: nothing in flight, so 5 remaining reads as 5").isEqualTo(5.0);
        }
    }

    /**
     * The drift above strands waiters: a budget that does not refill on its own lets one probe through only when
     * nothing is in flight, and the leaked in-flight request never leaves. The next request waits for ever (until
     * its deadline) although no call is in flight.
     */
    @Test
    void aStuckBudgetStillProbesAfterOneRequestObjectWasSentByTwoCalls() throws Exception {
        try (RateLimiter limits = RateLimiter.builder().build();
             AdversaryH2Server server = AdversaryH2Server.builder().maxConcurrentStreams(1)
                     .scripts(announcingNoReset(10, 5), held(), H2Script.stream().rstStream(Http2Error.REFUSED_STREAM),
                             announcingNoReset(10, 0))
                     .defaultScript(announcingNoReset(10, 5)).start();
             ConnectionPoolManager client = oneSlotClient(limits)) {
            assertThat(client.sendBlocking(get(server, 0)).status()).isEqualTo(200);
            HttpRequest shared = get(server, 1);
            CompletableFuture<HttpResponse> b = client.send(shared);
            assertThat(server.awaitStreams(2, Duration.ofSeconds(10))).isTrue();
            CompletableFuture<HttpResponse> a = client.send(shared);
            b.cancel(true);
            assertThat(a.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            // nothing in flight, none remaining, no reset announced: the next request goes as a probe after ~1 s
            CompletableFuture<HttpResponse> next = client.send(get(server, 5));
            assertThat(next).as("the probe of a stuck budget with nothing in flight").succeedsWithin(Duration.ofSeconds(10));
        }
    }

    // ------------------------------------------------------------------ finding 3: maxWait under-predicts a long queue

    /**
     * 1 request per 60 s, none left, maxWait 90 s: the first waiter's turn is in ~60 s, the second's in ~120 s (first
     * come first served). Budget.nanosUntilRoom asks Dimension.nanosUntil(1 + queued), which caps the units at the
     * limit (min(2, 1) = 1): the second is predicted at ~60 s and queued, to wait ~120 s, past maxWait.
     */
    @Test
    void maxWaitCountsTheWholeQueueAheadEvenBeyondTheLimit() throws Exception {
        try (RateLimiter limits = RateLimiter.builder().maxWait(Duration.ofSeconds(90)).build();
             AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(announcing(1, 0, "60s")).start();
             ConnectionPoolManager client = client(limits)) {
            assertThat(client.sendBlocking(get(server, 0)).status()).isEqualTo(200);
            CompletableFuture<HttpResponse> first = client.send(get(server, 1)); // ~60 s: within maxWait, waits
            CompletableFuture<HttpResponse> second = client.send(get(server, 2)); // ~120 s: past maxWait
            assertThat(limits.stats().budgets().get(0).waiting()).as("only the first waits").isEqualTo(1);
            assertThat(failure(second)).isInstanceOf(RateLimitedException.class);
            assertThat(first).isNotDone();
        }
    }

    // ------------------------------------------------------------------ finding 4: a huge retry-after disables the block

    /**
     * A 429 with {@code retry-after: 10000000000} (a valid non-negative integer): RateLimitHeaders returns
     * Duration.ofSeconds(1e10), and observe() calls toNanos() on it, which overflows (ArithmeticException) under the
     * budget's monitor; the guarded listener swallows it, and the budget is never blocked: the next request is sent.
     */
    @Test
    void a429WithAnEnormousRetryAfterStillBlocksTheBudget() throws Exception {
        H2Script tooMany = H2Script.stream().headers(429, false, "retry-after", "10000000000").data("{}", true);
        try (RateLimiter limits = RateLimiter.builder().mode(RateLimiter.Mode.FAIL).build();
             AdversaryH2Server server = AdversaryH2Server.builder().scripts(tooMany).defaultScript(H2Script.ok()).start();
             ConnectionPoolManager client = client(limits)) {
            assertThat(client.sendBlocking(get(server, 0)).status()).isEqualTo(429);
            Throwable second = failure(client.send(get(server, 1)));
            assertThat(second).as("blocked by the 429, not sent").isInstanceOf(RateLimitedException.class);
            assertThat(server.streams()).hasSize(1);
        }
    }

    // ------------------------------------------------------------------ finding 5: an unprocessed attempt keeps its room

    /**
     * REFUSED_STREAM: the server says it did not process the stream, and the client replays it. The refused attempt's
     * room is never given back (attemptFailed replays without RequestAdmission.abandoned), so when the replay's response
     * announces "5 remaining" with nothing else in flight, the limiter still subtracts the refused attempt and reads 4
     * (until the next response). The same holds for NOT_SENT replays (connection found closed before one byte left).
     */
    @Test
    void aRefusedStreamThatIsReplayedGivesItsRoomBack() throws Exception {
        try (RateLimiter limits = RateLimiter.builder().build();
             AdversaryH2Server server = AdversaryH2Server.builder()
                     .scripts(announcingNoReset(10, 5), H2Script.stream().rstStream(Http2Error.REFUSED_STREAM),
                             announcingNoReset(10, 5))
                     .defaultScript(announcingNoReset(10, 5)).start();
             ConnectionPoolManager client = client(limits)) {
            assertThat(client.sendBlocking(get(server, 0)).status()).isEqualTo(200);
            assertThat(client.sendBlocking(get(server, 1)).status()).as("refused once, replayed, answered").isEqualTo(200);
            assertThat(server.streams()).hasSize(3);
            assertThat(requestsAvailable(limits))
                    .as("the provider counted one request and said 5 remain; nothing else is in flight").isEqualTo(5.0);
        }
    }

    // ------------------------------------------------------------------ finding 6: admit() racing close() strands a waiter

    /**
     * admit() checks {@code closed} once, before it computes the budget and the estimate; close() may set it, stop
     * the timer and fail the queue in between; the admission then queues its waiter after close() emptied the queue,
     * schedule() meets the stopped timer and drops it silently: that future never completes (no timer, no close left
     * to fail it). Contract: every admission future completes exactly once; close() fails waiters typed.
     */
    @Test
    void anAdmissionRacingCloseNeverStrandsItsFuture() throws Exception {
        HttpRequest request = HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:9/v1/models"))
                .header("authorization", KEY).build();
        io.sluice.http.Headers spent = io.sluice.http.Headers.of("x-ratelimit-limit-requests", "1",
                "x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", "60s");
        for (int round = 0; round < 400; round++) {
            RateLimiter limits = RateLimiter.builder().build();
            limits.forCall(request).listener().responseHeaders(200, spent, 0); // budget spent: all wait
            java.util.List<CompletableFuture<Void>> futures = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
            java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(2);
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            Thread[] admitters = new Thread[2];
            for (int t = 0; t < admitters.length; t++) {
                admitters[t] = new Thread(() -> {
                    started.countDown();
                    while (!stop.get()) {
                        futures.add(limits.admit(request, 1));
                    }
                });
                admitters[t].start();
            }
            started.await();
            limits.close();
            stop.set(true);
            for (Thread t : admitters) {
                t.join();
            }
            int round0 = round;
            // close() returned and no admission is running any more: every future is settled for good, or never
            assertThat(futures.stream().filter(f -> !f.isDone()).count())
                    .as("round %d: admissions left incomplete after close()", round0).isZero();
        }
    }

    @Test
    void keysInGeminiHeadersAndQueryStringsHaveBudgetsOfTheirOwn() {
        HttpRequest none = HttpRequest.newBuilder(java.net.URI.create("https://g.example/v1/models")).build();
        HttpRequest gemini = HttpRequest.newBuilder(java.net.URI.create("https://g.example/v1/models"))
                .header("x-goog-api-key", "AIza-secret-1").build();
        HttpRequest query = HttpRequest.newBuilder(java.net.URI.create("https://g.example/v1/models?key=AIza-secret-2"))
                .build();
        assertThat(RateLimiter.keyHash(none)).isEqualTo("none");
        assertThat(RateLimiter.keyHash(gemini)).hasSize(16).isNotEqualTo("none").doesNotContain("AIza");
        assertThat(RateLimiter.keyHash(query)).hasSize(16).isNotEqualTo(RateLimiter.keyHash(gemini));
    }

    @Test
    void aNegativeTokenEstimateNeverAddsRoom() {
        HttpRequest request = HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:9/v1/chat/completions"))
                .header("authorization", KEY).POST("{}").build();
        try (RateLimiter limits = RateLimiter.builder().mode(RateLimiter.Mode.FAIL).tokenEstimate(r -> -1_000).build()) {
            io.sluice.http.RequestAdmission.CallAdmission call = limits.forCall(request);
            call.listener().responseHeaders(200, io.sluice.http.Headers.of("x-ratelimit-limit-tokens", "1000",
                    "x-ratelimit-remaining-tokens", "100", "x-ratelimit-reset-tokens", "60s"), 0);
            assertThat(call.admit(1)).isCompleted();
            // 100 left, refilling at 15 a second: a negative estimate taken as is would have added 1 000 (capped at
            // the limit, 1 000); counted as 0 it leaves about 100
            assertThat(limits.stats().budgets().get(0).tokensAvailable()).as("no room made out of a negative estimate")
                    .isLessThan(500);
        }
    }
}

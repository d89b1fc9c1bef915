package io.sluice.http;

import static io.sluice.http.HttpTestSupport.clientFor;
import static io.sluice.http.HttpTestSupport.testPool;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.pool.PoolStats;
import io.sluice.testkit.MockBehavior;
import io.sluice.testkit.MockProvider;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link ConnectionPoolManager#closeGracefully(Duration)} from the outside, against the mock on loopback: calls
 * already running (held at the mock by a barrier until the test releases them, queued for the pool's one
 * connection, waiting for admission, between status retries) finish; calls started after it fail at once with
 * the {@link ClientClosedException} of a closed client and never reach the server; the returned future completes
 * once the client is closed, after the last call, at the timeout, or at a {@code close()}. Nothing here measures
 * time: the order of events is checked with latches and the futures' states, and every wait is bounded.
 */
@ExtendWith(MockProviderExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GracefulCloseTest {

    @InjectMock
    static MockProvider mock;

    /** A call the mock holds (its barrier needs a second party) until {@link #release} sends that party. */
    static HttpRequest held(URI base, String group) {
        return HttpRequest.newBuilder(base.resolve("/ping")).header(MockBehavior.H_BARRIER, group + ":2")
                .header(MockBehavior.H_BARRIER_TIMEOUT_MS, "60000").build();
    }

    /** The barrier's second party, from another client (the draining one takes no new calls): the held call is answered. */
    static void release(ConnectionPoolManager other, URI base, String group) {
        HttpResponse r = other.sendBlocking(HttpRequest.newBuilder(base.resolve("/generate_204"))
                .header(MockBehavior.H_BARRIER, group + ":2").build());
        assertThat(r.status()).isEqualTo(204);
    }

    static String group() {
        return "drain-" + UUID.randomUUID();
    }

    static void awaitArrivals(String path, long n) {
        await().atMost(Duration.ofSeconds(10)).until(() -> mock.stats().requests(path) == n);
    }

    /** What the closed client's own refusal says, to compare with the refusals during the drain. */
    static Throwable refusal(CompletableFuture<?> f) {
        assertThat(f).as("refused at once, before send() returned").isCompletedExceptionally();
        try {
            f.join();
        } catch (CompletionException e) {
            assertThat(e.getCause()).isInstanceOf(ClientClosedException.class);
            return e.getCause();
        }
        throw new AssertionError("not refused");
    }

    static void assertNothingOpen(ConnectionPoolManager client, Route route) {
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            PoolStats s = client.stats(route);
            assertThat(s.open()).as("open").isZero();
            assertThat(s.inUse()).as("in use").isZero();
            assertThat(s.leasesOut()).as("leases out").isZero();
            assertThat(s.pending()).as("pending").isZero();
        });
    }

    @ParameterizedTest
    @EnumSource(value = Protocol.class, names = {"HTTP_1_1", "H2"})
    void aCallInFlightFinishesWhileNewCallsAreRefusedUnsent(Protocol protocol) throws Exception {
        URI base = protocol == Protocol.H2 ? mock.httpsUri() : mock.httpUri(); // h2 by ALPN; plain http is HTTP/1.1
        String group = group();
        mock.resetCounters();
        try (ConnectionPoolManager releaser = clientFor(mock).build()) {
            ConnectionPoolManager client = clientFor(mock).build();
            CompletableFuture<HttpResponse> held = client.send(held(base, group));
            awaitArrivals("/ping", 1);

            CompletableFuture<Void> drained = client.closeGracefully(Duration.ofSeconds(30));
            AtomicBoolean heldDoneFirst = new AtomicBoolean();
            CompletableFuture<Void> observed = drained.thenRun(() -> heldDoneFirst.set(held.isDone()));

            Throwable lateSend = refusal(client.send(HttpRequest.newBuilder(base.resolve("/v1/models")).build()));
            refusal(client.stream(HttpRequest.newBuilder(base.resolve("/v1/models")).build()));
            assertThatThrownBy(() -> client.sendBlocking(HttpRequest.newBuilder(base.resolve("/v1/models")).build()))
                    .isInstanceOf(ClientClosedException.class);
            assertThat(drained).as("the held call is still running").isNotDone();

            release(releaser, base, group);
            HttpResponse r = held.get(10, TimeUnit.SECONDS);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.protocol()).isEqualTo(protocol);
            observed.get(10, TimeUnit.SECONDS);
            assertThat(heldDoneFirst).as("the drain completed after the held call").isTrue();

            // Closed as close() closes: the same refusal, nothing left open.
            Throwable afterClose = refusal(client.send(HttpRequest.newBuilder(base.resolve("/v1/models")).build()));
            assertThat(lateSend).hasMessage(afterClose.getMessage());
            assertNothingOpen(client, Route.of(base));
            assertThat(mock.stats().requests("/v1/models")).as("the refused calls never reached the server").isZero();
        }
    }

    /** A call the mock receives and never answers, once it is at the mock. */
    private CompletableFuture<HttpResponse> sendUnanswered(ConnectionPoolManager client, URI base) throws Exception {
        CompletableFuture<HttpResponse> stuck = client.send(HttpRequest.newBuilder(base.resolve("/ping"))
                .header(MockBehavior.H_BLACKHOLE, "true").build());
        awaitArrivals("/ping", 1);
        return stuck;
    }

    @Test
    void aCallStillRunningAtTheTimeoutIsCutAsCloseCutsIt() throws Exception {
        mock.resetCounters();
        ConnectionPoolManager client = clientFor(mock).build();
        URI base = mock.httpsUri();
        CompletableFuture<HttpResponse> stuck = sendUnanswered(client, base);

        CompletableFuture<Void> drained = client.closeGracefully(Duration.ofMillis(200));
        assertThat(drained.get(10, TimeUnit.SECONDS)).as("completes normally at the timeout").isNull();
        assertThatThrownBy(() -> stuck.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(ClientClosedException.class);
        assertNothingOpen(client, Route.of(base));
        refusal(client.send(HttpRequest.newBuilder(base.resolve("/ping")).build()));
    }

    @Test
    void aCallWaitingInThePoolsQueueIsServed() throws Exception {
        URI base = mock.httpUri(); // HTTP/1.1: one connection, one call at a time
        Route route = Route.of(base);
        String group = group();
        mock.resetCounters();
        try (ConnectionPoolManager releaser = clientFor(mock).build()) {
            ConnectionPoolManager client = clientFor(mock).poolConfig(testPool().maxConnections(1).build()).build();
            CompletableFuture<HttpResponse> first = client.send(held(base, group));
            awaitArrivals("/ping", 1);
            CompletableFuture<HttpResponse> queued = client.send(HttpRequest.newBuilder(base.resolve("/v1/models")).build());
            await().atMost(Duration.ofSeconds(10)).until(() -> client.stats(route).pending() == 1);

            CompletableFuture<Void> drained = client.closeGracefully(Duration.ofSeconds(30));
            AtomicBoolean bothDoneFirst = new AtomicBoolean();
            CompletableFuture<Void> observed = drained.thenRun(() -> bothDoneFirst.set(first.isDone() && queued.isDone()));
            assertThat(drained).isNotDone();

            release(releaser, base, group);
            assertThat(first.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            assertThat(queued.get(10, TimeUnit.SECONDS).status()).as("served after the close began").isEqualTo(200);
            observed.get(10, TimeUnit.SECONDS);
            assertThat(bothDoneFirst).isTrue();
            assertThat(mock.stats().requests("/v1/models")).isEqualTo(1);
            assertNothingOpen(client, route);
        }
    }

    @Test
    void closeDuringTheDrainClosesAtOnceAndCompletesIt() throws Exception {
        mock.resetCounters();
        ConnectionPoolManager client = clientFor(mock).build();
        URI base = mock.httpsUri();
        CompletableFuture<HttpResponse> stuck = sendUnanswered(client, base);

        CompletableFuture<Void> drained = client.closeGracefully(Duration.ofSeconds(60));
        CompletableFuture<Void> again = client.closeGracefully(Duration.ZERO);
        assertThat(again).as("a second call joins the first drain (its timeout holds)").isNotDone();
        assertThat(drained).isNotDone();

        client.close();
        assertThat(drained).as("close() completed the drain").isDone();
        assertThat(drained.get()).isNull();
        assertThat(again).isDone();
        assertThatThrownBy(() -> stuck.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(ClientClosedException.class);
        assertThat(client.closeGracefully(Duration.ofSeconds(60))).as("on a closed client: done").isDone();
        refusal(client.send(HttpRequest.newBuilder(base.resolve("/ping")).build()));
        assertNothingOpen(client, Route.of(base));
    }

    @Test
    void callsRacingTheDrainAreEitherServedOrRefusedUnsent() throws Exception {
        mock.resetCounters();
        URI uri = mock.httpsUri().resolve("/generate_204");
        ConnectionPoolManager client = clientFor(mock).build();
        int threads = 8;
        CountDownLatch running = new CountDownLatch(threads);
        ConcurrentLinkedQueue<CompletableFuture<HttpResponse>> calls = new ConcurrentLinkedQueue<>();
        ExecutorService senders = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> loops = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                loops.add(senders.submit(() -> {
                    Semaphore window = new Semaphore(32); // calls of this thread in flight at once
                    for (int i = 0; i < 100_000; i++) {
                        window.acquireUninterruptibly();
                        CompletableFuture<HttpResponse> f = client.send(HttpRequest.newBuilder(uri).build());
                        calls.add(f);
                        f.whenComplete((r, e) -> window.release());
                        if (i == 20) {
                            running.countDown();
                        }
                        if (f.isCompletedExceptionally()) {
                            return; // refused: the drain has begun (any other failure is reported below)
                        }
                    }
                }));
            }
            assertThat(running.await(20, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Void> drained = client.closeGracefully(Duration.ofSeconds(30));
            for (Future<?> loop : loops) {
                loop.get(20, TimeUnit.SECONDS);
            }
            drained.get(30, TimeUnit.SECONDS);

            long served = 0;
            long refused = 0;
            List<String> other = new ArrayList<>();
            for (CompletableFuture<HttpResponse> f : calls) {
                try {
                    HttpResponse r = f.get(10, TimeUnit.SECONDS);
                    assertThat(r.status()).isEqualTo(204);
                    served++;
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof ClientClosedException) {
                        refused++;
                    } else {
                        other.add(e.getCause().toString());
                    }
                } catch (TimeoutException e) {
                    other.add("hung");
                }
            }
            assertThat(other).as("neither served nor refused").isEmpty();
            assertThat(refused).as("each sender stopped at a refusal").isGreaterThanOrEqualTo(threads);
            assertThat(served).isGreaterThanOrEqualTo(21L * threads);
            assertThat(mock.stats().requests("/generate_204")).as("the server saw exactly the calls served")
                    .isEqualTo(served);
            assertNothingOpen(client, Route.of(uri));
        } finally {
            senders.shutdownNow();
        }
    }

    @Test
    void aRunningCallKeepsItsStatusRetriesDuringTheDrain() throws Exception {
        mock.resetCounters();
        ConnectionPoolManager client = clientFor(mock).build();
        URI base = mock.httpsUri();
        CompletableFuture<HttpResponse> busy = client.send(HttpRequest.newBuilder(base.resolve("/ping"))
                .header(MockBehavior.H_STATUS, "503").header(MockBehavior.H_RETRY_AFTER_MS, "100").build());
        awaitArrivals("/ping", 1);

        CompletableFuture<Void> drained = client.closeGracefully(Duration.ofSeconds(30));
        assertThat(busy.get(20, TimeUnit.SECONDS).status()).as("the last retry's answer, not a close").isEqualTo(503);
        drained.get(10, TimeUnit.SECONDS);
        assertThat(mock.stats().requests("/ping")).as("1 attempt + 3 retries, all during the drain").isEqualTo(4);
        assertNothingOpen(client, Route.of(base));
    }

    @Test
    void aCallWaitingForAdmissionIsServed() throws Exception {
        mock.resetCounters();
        CompletableFuture<Void> gate = new CompletableFuture<>();
        CountDownLatch asked = new CountDownLatch(1);
        RequestAdmission admission = (request, attempt) -> {
            asked.countDown();
            return gate;
        };
        ConnectionPoolManager client = clientFor(mock).admission(admission).build();
        URI base = mock.httpsUri();
        CompletableFuture<HttpResponse> waiting = client.send(HttpRequest.newBuilder(base.resolve("/ping")).build());
        assertThat(asked.await(10, TimeUnit.SECONDS)).isTrue();

        CompletableFuture<Void> drained = client.closeGracefully(Duration.ofSeconds(30));
        assertThat(drained).as("the call waits for admission").isNotDone();
        assertThat(mock.stats().requests("/ping")).as("nothing sent before admission").isZero();
        gate.complete(null);
        assertThat(waiting.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
        drained.get(10, TimeUnit.SECONDS);
        assertThat(mock.stats().requests("/ping")).isEqualTo(1);
    }

    /**
     * The count the drain waits on comes back to zero whichever way a call ends: served, streamed to its end, a
     * stream closed early, cancelled, timed out, refused by an interceptor, a failed connect, a route ejected. A call
     * that kept its count would hold the drain to its timeout; here the drain's timeout is far beyond the bound.
     */
    @Test
    void everyWayACallEndsGivesItsCountBack() throws Exception {
        int deadPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        URI base = mock.httpsUri();
        ConnectionPoolManager client = clientFor(mock).interceptor(r -> {
            if (r.headers().contains("x-refuse")) {
                throw new IllegalStateException("refused by the interceptor");
            }
            return r;
        }).build();
        assertThat(client.sendBlocking(HttpRequest.newBuilder(base.resolve("/ping")).build()).status()).isEqualTo(200);
        try (StreamingResponse whole = client.streamBlocking(HttpTestSupport.chat(base.resolve("/v1/chat/completions"), true))) {
            while (whole.nextEventBlocking() != null) {
                // read to the end
            }
        }
        try (StreamingResponse cut = client.streamBlocking(HttpRequest.newBuilder(base.resolve("/v1/chat/completions"))
                .POST("{\"model\":\"m\",\"stream\":true,\"messages\":[]}").header("content-type", "application/json")
                .header(MockBehavior.H_TOKENS, "1000").header(MockBehavior.H_TOKEN_DELAY_MS, "20").build())) {
            assertThat(cut.nextEventBlocking()).isNotNull(); // then closed with the body still coming
        }
        CompletableFuture<HttpResponse> cancelled = client.send(HttpRequest.newBuilder(base.resolve("/ping"))
                .header(MockBehavior.H_BLACKHOLE, "true").build());
        cancelled.cancel(false);
        assertThatThrownBy(() -> client.sendBlocking(HttpRequest.newBuilder(base.resolve("/ping"))
                .header(MockBehavior.H_BLACKHOLE, "true").headersTimeout(Duration.ofMillis(100)).build()))
                .isInstanceOf(RequestTimeoutException.class);
        assertThatThrownBy(() -> client.sendBlocking(HttpRequest.newBuilder(base.resolve("/ping"))
                .header("x-refuse", "1").build())).isInstanceOf(InvalidRequestException.class);
        List<Class<?>> deadRoute = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            try {
                client.sendBlocking(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + deadPort + "/x")).build());
            } catch (SluiceHttpException e) {
                deadRoute.add(e.getClass());
            }
        }
        assertThat(deadRoute).contains(ConnectFailedException.class, RouteUnavailableException.class);

        await().atMost(Duration.ofSeconds(10)).until(() -> client.callsInFlight() == 0);
        assertThat(client.closeGracefully(Duration.ofSeconds(120)).get(20, TimeUnit.SECONDS)).isNull();
    }
}

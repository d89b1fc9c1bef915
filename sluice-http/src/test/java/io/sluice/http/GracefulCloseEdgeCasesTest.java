package io.sluice.http;

import static io.sluice.http.HttpTestSupport.clientFor;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.http.sse.SseEvent;
import io.sluice.testkit.MockBehavior;
import io.sluice.testkit.MockProvider;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Review of {@link ConnectionPoolManager#closeGracefully(Duration)} (branch wip-drain): each test states the
 * intended behaviour; a failure shows a defect. Real loopback servers, bounded waits, no timing assertions.
 */
@ExtendWith(MockProviderExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GracefulCloseEdgeCasesTest {

    @InjectMock
    static MockProvider mock;

    static HttpRequest sse(URI base, int tokens) {
        return HttpRequest.newBuilder(base.resolve("/v1/chat/completions"))
                .POST("{\"model\":\"m\",\"stream\":true,\"messages\":[]}").header("content-type", "application/json")
                .header(MockBehavior.H_TOKENS, Integer.toString(tokens)).build();
    }

    /** The library's frames of {@code t}'s stack, for the failure message. */
    static List<String> where(Throwable t) {
        List<String> frames = new ArrayList<>();
        if (t != null) {
            for (StackTraceElement e : t.getStackTrace()) {
                if (e.getClassName().startsWith("io.sluice.http.internal")) {
                    frames.add(e.getClassName().substring("io.sluice.http.internal.".length()) + "." + e.getMethodName()
                            + ":" + e.getLineNumber());
                }
            }
        }
        return frames;
    }

    /**
     * Intended: a stream the drain let finish can be read to its end by its caller. The count gives a stream back
     * when its exchange ends on the wire (END_STREAM), not when its caller has read what arrived: a caller still
     * working through the events already queued (any SSE consumer slower than the network) sees the client close
     * under it. Over HTTP/2 every chunk it then closes credits the stream window on the connection's event loop,
     * which the drain's close has shut down: the read throws {@code RejectedExecutionException} (not even a
     * {@link SluiceHttpException}), and so does {@code close()} of the response.
     */
    @ParameterizedTest
    @EnumSource(value = Protocol.class, names = {"HTTP_1_1", "H2"})
    void aStreamWhoseBodyHasArrivedIsReadToItsEndAfterTheDrain(Protocol protocol) throws Exception {
        ConnectionPoolManager client = clientFor(mock).build();
        URI base = protocol == Protocol.H2 ? mock.httpsUri() : mock.httpUri(); // h2 by ALPN
        StreamingResponse stream = client.streamBlocking(sse(base, 20));
        assertThat(stream.protocol()).isEqualTo(protocol);
        // The whole body (a few KB) arrives within the stream window while the caller has read nothing yet.
        await().atMost(Duration.ofSeconds(10)).until(() -> client.callsInFlight() == 0);

        client.closeGracefully(Duration.ofSeconds(30)).get(20, TimeUnit.SECONDS);

        List<String> events = new ArrayList<>();
        Throwable failure = null;
        try {
            SseEvent e;
            while ((e = stream.nextEventBlocking()) != null) {
                events.add(e.data());
            }
        } catch (RuntimeException e) {
            failure = e;
        } finally {
            try {
                stream.close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                }
            }
        }
        assertThat(failure).as("reading the stream the drain let finish (events read: %s) at %s", events.size(),
                where(failure)).isNull();
        assertThat(events).as("20 tokens, then the final chunk and [DONE]").hasSizeGreaterThanOrEqualTo(20);
    }

    /**
     * Intended: {@code close()} returns once the client is closed (its javadoc: "Closes every pool and connection,
     * then the event loops"; an owner calls it to force a graceful close that is taking too long, or from a
     * try-with-resources after closeGracefully). When the drain's own close is under way on {@code sluice-http-close}
     * (the timeout passed here), close() loses the CAS and returns at once, with the event loops still running and
     * the drain's future not complete. Here the closer is held inside close() by a listener it runs inline (the
     * queued call it fails has no attempt yet, so its last event is delivered on the closing thread).
     */
    @Test
    void closeDuringTheDrainsOwnCloseReturnsOnlyOnceTheClientIsClosed() throws Exception {
        CountDownLatch closerInside = new CountDownLatch(1);
        CountDownLatch letCloserGo = new CountDownLatch(1);
        CallListener holdsTheCloser = new CallListener() {
            @Override
            public void callFailed(Phase phase, SluiceHttpException failure) {
                if (Thread.currentThread().getName().equals("sluice-http-close")) {
                    closerInside.countDown();
                    try {
                        letCloserGo.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        };
        URI base = mock.httpUri(); // HTTP/1.1, one connection: the second call queues for it
        ConnectionPoolManager client = clientFor(mock)
                .poolConfig(HttpTestSupport.testPool().maxConnections(1).build())
                .callListener(CallListener.Factory.of(holdsTheCloser)).build();
        CompletableFuture<HttpResponse> stuck = client.send(HttpRequest.newBuilder(base.resolve("/ping"))
                .header(MockBehavior.H_BLACKHOLE, "true").build());
        await().atMost(Duration.ofSeconds(10)).until(() -> client.stats(Route.of(base)).leasesOut() == 1);
        CompletableFuture<HttpResponse> queued = client.send(HttpRequest.newBuilder(base.resolve("/ping")).build());
        await().atMost(Duration.ofSeconds(10)).until(() -> client.stats(Route.of(base)).pending() == 1);

        CompletableFuture<Void> drained = client.closeGracefully(Duration.ofMillis(100));
        assertThat(closerInside.await(20, TimeUnit.SECONDS)).as("the drain's close has begun").isTrue();

        AtomicBoolean closedWhenCloseReturned = new AtomicBoolean();
        Thread owner = new Thread(() -> {
            client.close();
            closedWhenCloseReturned.set(drained.isDone());
        }, "owner-close");
        owner.start();
        owner.join(2_000); // returns at once when close() does not wait; blocks here when it does
        letCloserGo.countDown();
        owner.join(20_000);
        assertThat(owner.isAlive()).isFalse();
        drained.get(20, TimeUnit.SECONDS);
        assertThat(stuck).isCompletedExceptionally();
        assertThat(queued).isCompletedExceptionally();
        assertThat(closedWhenCloseReturned).as("the client was closed when close() returned").isTrue();
    }

    /**
     * The last call's own callback waiting for the graceful close ({@code send(last).thenApply(r -> { use(r);
     * closeGracefully(t).join(); })}) holds the drain until its timeout, as closeGracefully documents: the call leaves
     * the count in a {@code whenComplete} that {@code Call} registered on the caller's future before returning it,
     * and CompletableFuture runs dependents newest first, so the caller's callback runs, and waits, before the count
     * is given back. Giving it back before the future completes would let the close start while the caller's
     * callbacks still run; the wait is bounded by the timeout instead, and never hangs.
     */
    @Test
    void aCallbackWaitingForTheDrainHoldsItOnlyUntilTheTimeout() throws Exception {
        ConnectionPoolManager client = clientFor(mock).build();
        try {
            CompletableFuture<String> callback = client.send(HttpRequest.newBuilder(mock.httpsUri().resolve("/ping"))
                    .build()).thenApply(r -> {
                        try {
                            client.closeGracefully(Duration.ofSeconds(1)).get(20, TimeUnit.SECONDS);
                            return "closed";
                        } catch (java.util.concurrent.TimeoutException e) {
                            return "the drain still waits, for " + client.callsInFlight() + " call(s) in flight";
                        } catch (Exception e) {
                            return e.toString();
                        }
                    });
            // (the count itself comes back after this callback: newest dependents first, as above)
            assertThat(callback.get(30, TimeUnit.SECONDS)).isEqualTo("closed");
        } finally {
            client.close();
        }
    }

    /**
     * Checked sound (passes): the paths {@code GracefulCloseTest.everyWayACallEndsGivesItsCountBack} leaves out each
     * give the count back once: an admission refusing at once ({@link RateLimitedException}), later, or throwing; the
     * deadline passing while admission waits; refused HTTP/2 streams replayed; a stream whose body arrived and that
     * its caller never touched; a stream reset mid-body; a cancel during a status retry's back-off; a future the
     * caller completed itself (orTimeout) while the exchange went on; a call started from a listener on an event loop.
     */
    @Test
    void theCountComesBackOnEveryOtherPath() throws Exception {
        RequestAdmission admission = (request, attempt) -> {
            String how = request.headers().get("x-admission");
            if (how == null) {
                return CompletableFuture.completedFuture(null);
            }
            switch (how) {
                case "refuse":
                    return CompletableFuture.failedFuture(new RateLimitedException(request.route().toString(),
                            "requests", Duration.ofSeconds(1)));
                case "refuse-later":
                    return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(50,
                            TimeUnit.MILLISECONDS)).thenCompose(v -> CompletableFuture.failedFuture(
                            new RateLimitedException(request.route().toString(), "tokens", Duration.ofSeconds(1))));
                case "throw":
                    throw new IllegalStateException("admission broke");
                default:
                    return new CompletableFuture<>(); // never: the deadline ends the call
            }
        };
        AtomicReference<ConnectionPoolManager> self = new AtomicReference<>();
        List<CompletableFuture<?>> chained = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicInteger onLoop = new java.util.concurrent.atomic.AtomicInteger();
        CallListener chain = new CallListener() {
            @Override
            public void callStart(HttpRequest request) {
                if (request.headers().contains("x-chain")) {
                    chained.add(self.get().send(HttpRequest.newBuilder(request.uri()).build()));
                }
            }

            @Override
            public void callEnd(int status, long bodyBytes, long nanos) {
                // delivered on the connection's event loop: a call started from there
                if (Thread.currentThread() instanceof io.netty.util.concurrent.FastThreadLocalThread
                        && onLoop.getAndIncrement() < 2) {
                    chained.add(self.get().send(HttpRequest.newBuilder(mock.httpsUri().resolve("/ping")).build()));
                }
            }
        };
        ConnectionPoolManager client = clientFor(mock).admission(admission)
                .callListener(CallListener.Factory.of(chain)).build();
        self.set(client);
        URI base = mock.httpsUri();
        List<CompletableFuture<?>> calls = new ArrayList<>();
        calls.add(client.send(HttpRequest.newBuilder(base.resolve("/ping")).header("x-admission", "refuse").build()));
        calls.add(client.send(HttpRequest.newBuilder(base.resolve("/ping")).header("x-admission", "refuse-later").build()));
        calls.add(client.send(HttpRequest.newBuilder(base.resolve("/ping")).header("x-admission", "throw").build()));
        calls.add(client.send(HttpRequest.newBuilder(base.resolve("/ping")).header("x-admission", "hold")
                .totalTimeout(Duration.ofMillis(200)).build()));
        calls.add(client.send(HttpRequest.newBuilder(base.resolve("/ping")).header(MockBehavior.H_REFUSE_STREAM, "true")
                .build()));
        calls.add(client.send(HttpRequest.newBuilder(base.resolve("/ping")).header("x-chain", "1").build()));
        StreamingResponse untouched = client.streamBlocking(sse(base, 5));
        calls.add(client.stream(HttpRequest.newBuilder(base.resolve("/v1/chat/completions"))
                .POST("{\"model\":\"m\",\"stream\":true,\"messages\":[]}").header("content-type", "application/json")
                .header(MockBehavior.H_TOKENS, "50").header(MockBehavior.H_RESET_AFTER_TOKENS, "3").build())
                .thenCompose(r -> r.aggregate()));
        CompletableFuture<HttpResponse> retrying = client.send(HttpRequest.newBuilder(base.resolve("/generate_204"))
                .header(MockBehavior.H_STATUS, "503").header(MockBehavior.H_RETRY_AFTER_MS, "5000").build());
        await().atMost(Duration.ofSeconds(10)).until(() -> mock.stats().requests("/generate_204") >= 1);
        retrying.cancel(false);
        calls.add(client.send(HttpRequest.newBuilder(base.resolve("/ping")).header(MockBehavior.H_BLACKHOLE, "true")
                .headersTimeout(Duration.ofMillis(300)).build()).orTimeout(10, TimeUnit.MILLISECONDS));
        for (CompletableFuture<?> f : calls) {
            try {
                f.get(20, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException expected) {
                // each ends its own way; only the count matters here
            }
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> chained.size() >= 3);
        assertThat(onLoop.get()).as("calls started from an event loop").isGreaterThanOrEqualTo(2);
        for (CompletableFuture<?> f : chained) {
            f.get(20, TimeUnit.SECONDS);
        }
        await().atMost(Duration.ofSeconds(15)).until(() -> client.callsInFlight() == 0); // untouched included
        untouched.close(); // before the close: reading after it is the first test's finding
        assertThat(client.closeGracefully(Duration.ofSeconds(120)).get(20, TimeUnit.SECONDS)).isNull();
    }

    /**
     * Intended: a call still running at the drain's timeout fails with the {@link ClientClosedException} close()
     * gives it ({@code GracefulCloseTest.aCallStillRunningAtTheTimeoutIsCutAsCloseCutsIt}, which fails about one
     * run in five because of this). Over HTTP/2 (TLS or h2c; never HTTP/1.1 in 90 tries) about one close in six
     * leaves the call's future incomplete for ever: the pool hands the connection to {@code channel.close()} (it is
     * gone from {@code connections(route)}), yet the event loops terminate with the socket still open (the mock
     * still counts the connection and its stream) and the exchange never hears of it. Pre-existing: main's plain
     * {@code close()} does the same (4 and 5 hangs in 30 closes); the drain inherits it at its timeout, and its
     * count then never reaches zero. Repeated until the first hang (about 30 closes make one near certain).
     */
    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void everyH2CallCutAtTheDrainsTimeoutCompletes() throws Exception {
        URI base = mock.httpsUri();
        for (int i = 0; i < 30; i++) {
            long openBefore = mock.stats().connectionsOpen();
            long arrived = mock.stats().requests("/ping");
            ConnectionPoolManager client = clientFor(mock).build();
            CompletableFuture<HttpResponse> stuck = client.send(HttpRequest.newBuilder(base.resolve("/ping"))
                    .header(MockBehavior.H_BLACKHOLE, "true").build());
            await().atMost(Duration.ofSeconds(10)).until(() -> mock.stats().requests("/ping") == arrived + 1);
            client.closeGracefully(Duration.ofMillis(50)).get(20, TimeUnit.SECONDS);
            String outcome;
            try {
                stuck.get(5, TimeUnit.SECONDS);
                outcome = "answered";
            } catch (java.util.concurrent.ExecutionException e) {
                outcome = e.getCause().getClass().getSimpleName();
            } catch (java.util.concurrent.TimeoutException e) {
                outcome = "never completed (close " + (i + 1) + "; pool: " + client.stats(Route.of(base))
                        + "; connections the pool still tracks: " + client.connections(Route.of(base)).size()
                        + "; connections open at the mock: " + mock.stats().connectionsOpen() + ", before: "
                        + openBefore + ")";
            }
            assertThat(outcome).as("the call cut at the drain's timeout").isEqualTo("ClientClosedException");
        }
    }
}

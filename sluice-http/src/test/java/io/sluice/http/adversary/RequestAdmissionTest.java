package io.sluice.http.adversary;

import static io.sluice.http.adversary.AdversaryClients.outcome;
import static io.sluice.http.adversary.AdversaryClients.within;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.CallListener;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.RateLimitedException;
import io.sluice.http.RecordingCallListener;
import io.sluice.http.RequestAdmission;
import io.sluice.http.RequestTimeoutException;
import io.sluice.http.Timeouts;
import io.sluice.testkit.adversary.AdversaryH2Server;
import io.sluice.testkit.adversary.H2Script;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Request admission (a rate limiter's hook), seen from the server: nothing is sent while an attempt waits
 * for admission; a refusal reaches the caller typed with nothing sent; a deadline or a cancel while waiting
 * cancels the admission (the limiter gets its room back); every attempt is admitted, retries included.
 */
@Timeout(30)
class RequestAdmissionTest {

    /** Holds each attempt until the test completes its future. */
    static final class Gate implements RequestAdmission {
        final List<CompletableFuture<Void>> waiting = new CopyOnWriteArrayList<>();
        final List<Integer> attempts = new CopyOnWriteArrayList<>();
        final List<Integer> abandoned = new CopyOnWriteArrayList<>();
        volatile boolean open;

        @Override
        public CompletableFuture<Void> admit(HttpRequest request, int attempt) {
            attempts.add(attempt);
            if (open) {
                return CompletableFuture.completedFuture(null);
            }
            CompletableFuture<Void> f = new CompletableFuture<>();
            waiting.add(f);
            return f;
        }

        @Override
        public void abandoned(HttpRequest request, int attempt) {
            abandoned.add(attempt);
        }
    }

    private static ConnectionPoolManager client(RequestAdmission admission, Timeouts timeouts, CallListener l) {
        return ConnectionPoolManager.builder().h2cPriorKnowledge(true).poolConfig(AdversaryClients.pool())
                .timeouts(timeouts).admission(admission).callListener(CallListener.Factory.of(l)).build();
    }

    @Test
    void nothingIsSentUntilTheAttemptIsAdmitted() {
        Gate gate = new Gate();
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(H2Script.ok()).start();
             ConnectionPoolManager client = client(gate, AdversaryClients.timeouts(), CallListener.NONE)) {
            CompletableFuture<HttpResponse> f = client.send(HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build());
            org.awaitility.Awaitility.await().until(() -> !gate.waiting.isEmpty());
            assertThat(f).isNotDone();
            assertThat(server.streams()).as("held: nothing on the wire").isEmpty();
            gate.waiting.get(0).complete(null);
            assertThat(within(f).status()).isEqualTo(200);
            assertThat(server.streams()).hasSize(1);
        }
    }

    @Test
    void aWaitingAttemptContinuesOffTheThreadThatAdmitsIt() throws Exception {
        // A rate limiter admits waiters from one timer thread serving every budget: the call's continuation (the
        // pool acquire, the listener's events) must not run there.
        Gate gate = new Gate();
        java.util.concurrent.atomic.AtomicReference<String> acquireThread = new java.util.concurrent.atomic.AtomicReference<>();
        CallListener l = new CallListener() {
            @Override
            public void acquireStart(int attempt) {
                acquireThread.set(Thread.currentThread().getName());
            }
        };
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(H2Script.ok()).start();
             ConnectionPoolManager client = client(gate, AdversaryClients.timeouts(), l)) {
            CompletableFuture<HttpResponse> f = client.send(HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build());
            org.awaitility.Awaitility.await().until(() -> !gate.waiting.isEmpty());
            Thread timer = new Thread(() -> gate.waiting.get(0).complete(null), "limiter-timer");
            timer.start();
            timer.join();
            assertThat(within(f).status()).isEqualTo(200);
            assertThat(acquireThread.get()).isNotEqualTo("limiter-timer");
        }
    }

    @Test
    void aRefusalReachesTheCallerTypedAndNothingIsSent() {
        RequestAdmission refuse = (r, attempt) -> CompletableFuture.failedFuture(
                new RateLimitedException(r.route().toString(), "requests", Duration.ofSeconds(7)));
        RecordingCallListener l = new RecordingCallListener();
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(H2Script.ok()).start();
             ConnectionPoolManager client = client(refuse, AdversaryClients.timeouts(), l)) {
            Object out = outcome(client.send(HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build()));
            assertThat(out).isInstanceOfSatisfying(RateLimitedException.class, e -> {
                assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(7));
                assertThat(e.budget()).isEqualTo("requests");
                assertThat(e.retryable()).isTrue();
            });
            assertThat(server.streams()).isEmpty();
        }
        assertThat(l.eventsAtEnd()).containsExactly("callStart GET", "callFailed ADMISSION");
    }

    @Test
    void aDeadlineOrACancelWhileWaitingCancelsTheAdmission() {
        Gate gate = new Gate();
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(H2Script.ok()).start();
             ConnectionPoolManager client = client(gate, new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(5),
                     Duration.ofSeconds(5), Duration.ofMillis(300)), CallListener.NONE)) {
            HttpRequest get = HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build();
            assertThat(outcome(client.send(get))).isInstanceOfSatisfying(RequestTimeoutException.class,
                    e -> assertThat(e.phase()).isEqualTo(RequestTimeoutException.Phase.TOTAL));
            assertThat(gate.waiting.get(0)).as("the limiter's future, cancelled at the deadline").isCancelled();

            CompletableFuture<HttpResponse> cancelled = client.send(get);
            org.awaitility.Awaitility.await().until(() -> gate.waiting.size() == 2);
            cancelled.cancel(false);
            assertThat(gate.waiting.get(1)).isCancelled();
            assertThat(server.streams()).isEmpty();
        }
    }

    @Test
    void everyAttemptIsAdmittedAndOneAdmittedButNeverSentIsGivenBack() {
        Gate gate = new Gate();
        gate.open = true;
        H2Script busy = H2Script.stream().headers(503, false, "retry-after", "0").data("busy", true);
        try (AdversaryH2Server server = AdversaryH2Server.builder().scripts(busy, H2Script.ok()).start();
             ConnectionPoolManager client = client(gate, AdversaryClients.timeouts(), CallListener.NONE)) {
            assertThat(within(client.send(HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build())).status())
                    .isEqualTo(200);
            assertThat(gate.attempts).containsExactly(1, 2);
            assertThat(gate.abandoned).isEmpty();
        }
        // admitted, but the port refuses: the attempt never went out, so its room is given back
        try (ConnectionPoolManager client = client(gate, AdversaryClients.timeouts(), CallListener.NONE)) {
            assertThat(outcome(client.send(HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:1/x")).build())))
                    .isInstanceOf(io.sluice.http.ConnectFailedException.class);
            assertThat(gate.abandoned).containsExactly(1);
        }
    }
}

package io.sluice.http.adversary;

import static io.sluice.http.adversary.AdversaryClients.outcome;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.CallListener;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.RequestAdmission;
import io.sluice.http.RequestTimeoutException;
import io.sluice.http.Timeouts;
import io.sluice.testkit.adversary.AdversaryH2Server;
import io.sluice.testkit.adversary.H2Script;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review (6ae63c3): Call.totalTimedOut reads {@code current} before it stops the admission and the acquire and
 * before it settles the call. An attempt admitted (or leased) in that window starts, passes Attempt.begin's
 * settled check and is sent; the caller hears TOTAL, but nobody stops that attempt: its stream stays open on the
 * server (and its lease held) until the headers timeout or a response.
 *
 * <p>The interleaving is forced without sleeps: the admission's future is admitted exactly as the deadline
 * cancels it (a limiter's timer admitting the waiter at the same instant), and its cancel() returns only once the
 * admitted attempt is being sent.
 */
@Timeout(30)
class DeadlineRacingAdmissionTest {

    /** A waiter the limiter admits at the very moment the call cancels it. */
    static final class AdmittedAsCancelled extends CompletableFuture<Void> {
        final CountDownLatch sending;

        AdmittedAsCancelled(CountDownLatch sending) {
            this.sending = sending;
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            complete(null); // the admission won the race: the cancel finds it admitted
            try {
                sending.await(10, TimeUnit.SECONDS); // the deadline's thread is descheduled meanwhile
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return super.cancel(mayInterruptIfRunning); // false: already admitted
        }
    }

    @Test
    void anAttemptStartedAsTheDeadlineFiresIsStoppedWithTheCall() throws Exception {
        CountDownLatch sending = new CountDownLatch(1);
        CountDownLatch admitted = new CountDownLatch(1);
        RequestAdmission admission = new RequestAdmission() {
            @Override
            public CompletableFuture<Void> admit(HttpRequest request, int attempt) {
                admitted.countDown();
                return new AdmittedAsCancelled(sending);
            }
        };
        CallListener l = new CallListener() {
            @Override
            public void requestSending(HttpRequest sent) {
                sending.countDown();
            }
        };
        // the server never answers; the headers bound is far beyond the test: only the deadline may end the stream
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(H2Script.stream()).start();
             ConnectionPoolManager client = ConnectionPoolManager.builder().h2cPriorKnowledge(true)
                     .poolConfig(AdversaryClients.pool())
                     .timeouts(new Timeouts(Duration.ofSeconds(5), Duration.ofMinutes(5), Duration.ofMinutes(5),
                             Duration.ofMillis(200)))
                     .admission(admission).callListener(CallListener.Factory.of(l)).build()) {
            CompletableFuture<HttpResponse> f = client.send(HttpRequest.newBuilder(server.uri().resolve("/v1/models"))
                    .build());
            assertThat(admitted.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(outcome(f)).isInstanceOfSatisfying(RequestTimeoutException.class,
                    e -> assertThat(e.phase()).isEqualTo(RequestTimeoutException.Phase.TOTAL));
            assertThat(sending.getCount()).as("the attempt admitted in the race was sent").isZero();
            assertThat(server.awaitStreams(1, Duration.ofSeconds(10))).isTrue();
            // The caller was told the call is over: its attempt must be stopped (RST_STREAM), not left open for
            // the headers timeout (5 minutes here).
            org.awaitility.Awaitility.await("the timed-out call's stream reset").atMost(Duration.ofSeconds(10))
                    .until(() -> !server.stream(1).rstCodesReceived().isEmpty());
        }
    }
}

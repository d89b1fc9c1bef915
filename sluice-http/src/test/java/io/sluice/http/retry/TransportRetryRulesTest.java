package io.sluice.http.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.http.retry.TransportRetryRules.FailedAttempt;
import io.sluice.http.retry.TransportRetryRules.Failure;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class TransportRetryRulesTest {

    /** A POST on a reused connection, fully written, no response yet, replayable body: the common stale shape. */
    private static FailedAttempt.Builder post() {
        return FailedAttempt.builder("POST").connectionReused(true).requestFullyWritten(true)
                .requestBodyReplayable(true);
    }

    private static FailedAttempt.Builder get() {
        return FailedAttempt.builder("GET").connectionReused(true).requestFullyWritten(true)
                .requestBodyReplayable(true);
    }

    @Test
    void refusedAndUnprocessedStreamsAreReplayedAtOnceEvenForPost() {
        for (Failure f : new Failure[] {Failure.REFUSED_STREAM, Failure.GOAWAY_UNPROCESSED}) {
            RetryDecision d = TransportRetryRules.decide(f, post().build());
            assertThat(d.retry()).as(f.name()).isTrue();
            assertThat(d.delay()).isEqualTo(Duration.ZERO);
            assertThat(d.reason()).contains("did not process");
        }
    }

    @Test
    void unprocessedReplaysAreBounded() {
        assertThat(TransportRetryRules.decide(Failure.REFUSED_STREAM, post().replaysSoFar(2).build()).retry()).isTrue();
        assertThat(TransportRetryRules.decide(Failure.REFUSED_STREAM,
                post().replaysSoFar(TransportRetryRules.MAX_UNPROCESSED_REPLAYS).build()).retry()).isFalse();
    }

    @Test
    void nothingIsReplayedWhenTheBodyCannotBeSentAgain() {
        FailedAttempt oneShot = post().requestBodyReplayable(false).build();
        assertThat(TransportRetryRules.decide(Failure.GOAWAY_UNPROCESSED, oneShot).retry()).isFalse();
        assertThat(TransportRetryRules.decide(Failure.CONNECTION_LOST,
                get().requestBodyReplayable(false).build()).retry()).isFalse();
    }

    @Test
    void nothingIsReplayedOnceBodyBytesReachedTheCaller() {
        for (Failure f : Failure.values()) {
            assertThat(TransportRetryRules.decide(f, get().bodyBytesDelivered(true).build()).retry()).as(f.name())
                    .isFalse();
        }
    }

    @Test
    void connectFailuresAreLeftToThePool() {
        RetryDecision d = TransportRetryRules.decide(Failure.CONNECT_FAILED, get().connectionReused(false).build());
        assertThat(d.retry()).isFalse();
        assertThat(d.reason()).contains("pool");
    }

    @Test
    void staleConnectionReplaysAnIdempotentRequestOnce() {
        assertThat(TransportRetryRules.decide(Failure.CONNECTION_LOST, get().build()).retry()).isTrue();
        assertThat(TransportRetryRules.decide(Failure.CONNECTION_LOST,
                FailedAttempt.builder("DELETE").connectionReused(true).requestFullyWritten(true)
                        .requestBodyReplayable(true).build()).retry()).isTrue();
        assertThat(TransportRetryRules.decide(Failure.CONNECTION_LOST, get().replaysSoFar(1).build()).retry())
                .isFalse();
    }

    @Test
    void anIdempotentRequestLostOnAFreshConnectionIsReplayedOnceToo() {
        assertThat(TransportRetryRules.decide(Failure.CONNECTION_LOST, get().connectionReused(false).build()).retry())
                .isTrue();
        assertThat(TransportRetryRules.decide(Failure.CONNECTION_LOST,
                get().connectionReused(false).replaysSoFar(1).build()).retry()).isFalse();
    }

    @Test
    void lostConnectionAfterResponseBytesIsNotReplayed() {
        RetryDecision d = TransportRetryRules.decide(Failure.CONNECTION_LOST, get().responseBytesReceived(true).build());
        assertThat(d.retry()).isFalse();
        assertThat(d.reason()).contains("processed");
    }

    /** An AI provider bills a completion it processed: a written POST lost before its answer is not sent again. */
    @Test
    void fullyWrittenPostIsNotReplayedAndMayHaveBeenProcessed() {
        RetryDecision d = TransportRetryRules.decide(Failure.CONNECTION_LOST, post().build());
        assertThat(d.retry()).isFalse();
        assertThat(d.reason()).contains("may have processed");
        assertThat(TransportRetryRules.possiblyProcessed(Failure.CONNECTION_LOST, post().build())).isTrue();
        assertThat(TransportRetryRules.decide(Failure.CONNECTION_LOST, post().connectionReused(false).build()).retry())
                .isFalse();
    }

    @Test
    void postMarkedIdempotentIsReplayedOnce() {
        assertThat(TransportRetryRules.decide(Failure.CONNECTION_LOST, post().idempotent(true).build())
                .retry()).isTrue();
        assertThat(TransportRetryRules.decide(Failure.CONNECTION_LOST, post().idempotent(true).replaysSoFar(1).build())
                .retry()).isFalse();
        assertThat(TransportRetryRules.decide(Failure.CONNECTION_LOST,
                post().idempotent(true).connectionReused(false).build()).retry()).isTrue();
    }

    @Test
    void postNotFullyWrittenIsReplayedOnceEvenOnAFreshConnectionAndWasNotProcessed() {
        FailedAttempt partial = post().requestFullyWritten(false).connectionReused(false).build();
        assertThat(TransportRetryRules.decide(Failure.CONNECTION_LOST, partial).retry()).isTrue();
        assertThat(TransportRetryRules.possiblyProcessed(Failure.CONNECTION_LOST, partial)).isFalse();
        assertThat(TransportRetryRules.decide(Failure.CONNECTION_LOST,
                post().requestFullyWritten(false).replaysSoFar(1).build()).retry()).isFalse();
    }

    @Test
    void refusedAndGoAwayStreamsWereNotProcessed() {
        assertThat(TransportRetryRules.possiblyProcessed(Failure.REFUSED_STREAM, post().build())).isFalse();
        assertThat(TransportRetryRules.possiblyProcessed(Failure.GOAWAY_UNPROCESSED, post().build())).isFalse();
    }

    @Test
    void idempotencyFollowsRfc9110() {
        for (String m : new String[] {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) {
            assertThat(Methods.isIdempotent(m)).as(m).isTrue();
        }
        for (String m : new String[] {"POST", "PATCH", "CONNECT", "get", "", "FOO"}) {
            assertThat(Methods.isIdempotent(m)).as(m).isFalse();
        }
        assertThat(Methods.isIdempotent(null)).isFalse();
    }

    @Test
    void failedAttemptRejectsNegativeReplays() {
        assertThatThrownBy(() -> get().replaysSoFar(-1).build()).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void decisionsAreConsistent() {
        assertThatThrownBy(() -> new RetryDecision(false, Duration.ofSeconds(1), "x"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RetryDecision.retryAfter(Duration.ofSeconds(-1), "x"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(RetryDecision.giveUp("why").delay()).isEqualTo(Duration.ZERO);
    }
}

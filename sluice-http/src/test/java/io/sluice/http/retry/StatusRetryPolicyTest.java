package io.sluice.http.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StatusRetryPolicyTest {

    private static final Instant NOW = Instant.parse("2024-06-01T12:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    /** No jitter (random 0 means factor 1), so delays are exact. */
    private static final StatusRetryPolicy POLICY = StatusRetryPolicy.builder().clock(CLOCK).random(() -> 0.0).build();
    private static final HeaderLookup NONE = HeaderLookup.none();

    private static RetryDecision decide(String method, int status) {
        return POLICY.decide(method, status, NONE, 1, null, false);
    }

    private static RetryDecision decide(int status, Map<String, String> headers) {
        return POLICY.decide("POST", status, HeaderLookup.of(headers), 1, null, false);
    }

    @Test
    void tooManyRequestsAndUnavailableAreRetriedForAnyMethod() {
        for (String method : new String[] {"GET", "POST", "PATCH"}) {
            assertThat(decide(method, 429).retry()).as(method).isTrue();
            assertThat(decide(method, 503).retry()).as(method).isTrue();
        }
    }

    @Test
    void serverErrorsAreRetriedOnlyForIdempotentMethods() {
        for (int status : new int[] {500, 502, 504, 529}) {
            for (String method : new String[] {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) {
                assertThat(decide(method, status).retry()).as("%s %d", method, status).isTrue();
            }
            assertThat(decide("POST", status).retry()).as("POST %d", status).isFalse();
            assertThat(decide("PATCH", status).retry()).as("PATCH %d", status).isFalse();
        }
    }

    @Test
    void otherStatusesAreNotRetried() {
        for (int status : new int[] {200, 204, 301, 400, 401, 403, 404, 408, 409, 422, 501, 505}) {
            assertThat(decide("GET", status).retry()).as("%d", status).isFalse();
        }
        assertThat(decide("GET", 404).reason()).contains("404 is not retryable for GET");
    }

    @Test
    void methodNamesAreCaseSensitive() {
        assertThat(decide("get", 500).retry()).isFalse();
    }

    @Test
    void shouldRetryTrueForcesARetry() {
        assertThat(decide(500, Map.of("x-should-retry", "true")).retry()).isTrue();
        assertThat(decide(400, Map.of("X-Should-Retry", "true")).reason()).contains("x-should-retry: true");
    }

    @Test
    void shouldRetryFalseForbidsARetry() {
        RetryDecision d = decide(429, Map.of("x-should-retry", "false", "retry-after-ms", "10"));
        assertThat(d.retry()).isFalse();
        assertThat(d.reason()).contains("x-should-retry: false");
    }

    @Test
    void otherShouldRetryValuesAreIgnored() {
        assertThat(decide(500, Map.of("x-should-retry", "maybe")).retry()).isFalse();
        assertThat(decide(429, Map.of("x-should-retry", "1")).retry()).isTrue();
    }

    @Test
    void shouldRetryTrueDoesNotApplyToSuccess() {
        assertThat(POLICY.decide("GET", 200, HeaderLookup.of(Map.of("x-should-retry", "true")), 1, null, false).retry())
                .isFalse();
    }

    @Test
    void backoffDoublesFromHalfASecondAndIsCappedAtEightSeconds() {
        StatusRetryPolicy many = POLICY.toBuilder().maxRetries(10).build();
        long[] expectedMillis = {500, 1000, 2000, 4000, 8000, 8000, 8000};
        for (int i = 0; i < expectedMillis.length; i++) {
            RetryDecision d = many.decide("GET", 503, NONE, i + 1, null, false);
            assertThat(d.delay()).as("after attempt %d", i + 1).isEqualTo(Duration.ofMillis(expectedMillis[i]));
        }
    }

    @Test
    void backoffNeverOverflowsForHugeAttemptCounts() {
        StatusRetryPolicy many = POLICY.toBuilder().maxRetries(Integer.MAX_VALUE).build();
        assertThat(many.decide("GET", 503, NONE, 1_000_000, null, false).delay()).isEqualTo(Duration.ofSeconds(8));
    }

    @Test
    void jitterShavesUpToAQuarterOffTheDelay() {
        StatusRetryPolicy half = POLICY.toBuilder().random(() -> 0.5).build();
        assertThat(half.decide("GET", 503, NONE, 2, null, false).delay()).isEqualTo(Duration.ofMillis(875));
        StatusRetryPolicy real = POLICY.toBuilder().random(() -> java.util.concurrent.ThreadLocalRandom.current()
                .nextDouble()).build();
        for (int i = 0; i < 200; i++) {
            assertThat(real.decide("GET", 503, NONE, 3, null, false).delay())
                    .isBetween(Duration.ofMillis(1500), Duration.ofMillis(2000));
        }
    }

    @Test
    void retriesStopAfterMaxRetries() {
        assertThat(POLICY.decide("GET", 503, NONE, 3, null, false).retry()).isTrue();
        RetryDecision d = POLICY.decide("GET", 503, NONE, 4, null, false);
        assertThat(d.retry()).isFalse();
        assertThat(d.reason()).contains("retries exhausted");
        StatusRetryPolicy none = POLICY.toBuilder().maxRetries(0).build();
        assertThat(none.decide("GET", 503, NONE, 1, null, false).retry()).isFalse();
    }

    @Test
    void serverHintIsUsedWhenWithinTheCap() {
        assertThat(decide(429, Map.of("retry-after-ms", "250")).delay()).isEqualTo(Duration.ofMillis(250));
        assertThat(decide(429, Map.of("Retry-After", "2")).delay()).isEqualTo(Duration.ofSeconds(2));
        assertThat(decide(429, Map.of("Retry-After", "Sat, 01 Jun 2024 12:00:30 GMT")).delay())
                .isEqualTo(Duration.ofSeconds(30));
        assertThat(decide(429, Map.of("Retry-After", "60")).delay()).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void hintAboveTheCapMeansDoNotRetry() {
        RetryDecision d = decide(429, Map.of("Retry-After", "61"));
        assertThat(d.retry()).isFalse();
        assertThat(d.reason()).contains("61000 ms");
        StatusRetryPolicy patient = POLICY.toBuilder().maxHintedDelay(Duration.ofMinutes(5)).build();
        assertThat(patient.decide("POST", 429, HeaderLookup.of(Map.of("Retry-After", "61")), 1, null, false).delay())
                .isEqualTo(Duration.ofSeconds(61));
    }

    @Test
    void zeroOrPastHintFallsBackToBackoff() {
        assertThat(decide(429, Map.of("Retry-After", "0")).delay()).isEqualTo(Duration.ofMillis(500));
        assertThat(decide(429, Map.of("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT")).delay())
                .isEqualTo(Duration.ofMillis(500));
    }

    @Test
    void garbageHintFallsBackToBackoff() {
        assertThat(decide(429, Map.of("Retry-After", "later"))).satisfies(d -> {
            assertThat(d.retry()).isTrue();
            assertThat(d.delay()).isEqualTo(Duration.ofMillis(500));
        });
    }

    @Test
    void neverRetriesWhenTheDelayWouldPassTheDeadline() {
        HeaderLookup twoSeconds = HeaderLookup.of(Map.of("Retry-After", "2"));
        assertThat(POLICY.decide("POST", 429, twoSeconds, 1, Duration.ofSeconds(1), false).retry()).isFalse();
        assertThat(POLICY.decide("POST", 429, twoSeconds, 1, Duration.ofSeconds(2), false).retry()).isFalse();
        assertThat(POLICY.decide("POST", 429, twoSeconds, 1, Duration.ofSeconds(3), false).retry()).isTrue();
        assertThat(POLICY.decide("POST", 429, NONE, 1, Duration.ofMillis(400), false).reason())
                .contains("would pass the deadline");
    }

    @Test
    void neverRetriesOnceBodyBytesReachedTheCaller() {
        RetryDecision d = POLICY.decide("GET", 503, NONE, 1, null, true);
        assertThat(d.retry()).isFalse();
        assertThat(d.reason()).contains("body bytes");
    }

    @Test
    void disabledPolicyNeverRetries() {
        assertThat(StatusRetryPolicy.disabled().decide("GET", 503, NONE, 1, null, false).retry()).isFalse();
        assertThat(StatusRetryPolicy.disabled().enabled()).isFalse();
    }

    @Test
    void defaultsMatchTheDocumentedValues() {
        StatusRetryPolicy p = StatusRetryPolicy.defaults();
        assertThat(p.enabled()).isTrue();
        assertThat(p.maxRetries()).isEqualTo(3);
        assertThat(p.initialBackoff()).isEqualTo(Duration.ofMillis(500));
        assertThat(p.maxBackoff()).isEqualTo(Duration.ofSeconds(8));
        assertThat(p.maxHintedDelay()).isEqualTo(Duration.ofSeconds(60));
        assertThat(p.anyMethodStatuses()).containsExactly(429, 503);
        assertThat(p.idempotentStatuses()).containsExactly(500, 502, 504, 529);
    }

    @Test
    void customStatusesAndBackoff() {
        StatusRetryPolicy p = POLICY.toBuilder().anyMethodStatuses(503, 429, 408).idempotentStatuses()
                .backoff(Duration.ofMillis(100), Duration.ofMillis(300)).build();
        assertThat(p.decide("POST", 408, NONE, 1, null, false).delay()).isEqualTo(Duration.ofMillis(100));
        assertThat(p.decide("GET", 500, NONE, 1, null, false).retry()).isFalse();
        assertThat(p.decide("GET", 503, NONE, 3, null, false).delay()).isEqualTo(Duration.ofMillis(300));
        assertThat(p.anyMethodStatuses()).containsExactly(408, 429, 503);
    }

    @Test
    void exposedArraysAreCopies() {
        StatusRetryPolicy p = StatusRetryPolicy.defaults();
        p.anyMethodStatuses()[0] = 500;
        assertThat(p.isRetryable("POST", 500)).isFalse();
    }

    @Test
    void builderRejectsNonsense() {
        assertThatThrownBy(() -> StatusRetryPolicy.builder().maxRetries(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> StatusRetryPolicy.builder().anyMethodStatuses(200))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("200");
        assertThatThrownBy(() -> StatusRetryPolicy.builder().backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> StatusRetryPolicy.builder().maxHintedDelay(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> POLICY.decide("GET", 503, NONE, 0, null, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 1");
    }

    @Test
    void retryReasonNamesTheStatusAndTheRetryNumber() {
        assertThat(POLICY.decide("GET", 503, NONE, 2, null, false).reason())
                .isEqualTo("503, backoff 1000 ms (retry 2 of 3)");
    }
}

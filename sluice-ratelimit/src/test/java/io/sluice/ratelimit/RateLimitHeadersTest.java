package io.sluice.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.Headers;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The providers' rate-limit headers as they document them: OpenAI's durations, Anthropic's RFC 3339
 * instants, the IETF draft's structured fields (current and earlier syntax), retry-after in both forms;
 * malformed values are ignored, never an error.
 */
class RateLimitHeadersTest {

    private static final Instant NOW = Instant.parse("2026-12-05T12:00:00Z");

    @Test
    void openAiDurationsInTheirGrammar() {
        assertThat(RateLimitHeaders.duration("6m0s")).isEqualTo(Duration.ofMinutes(6));
        assertThat(RateLimitHeaders.duration("1s")).isEqualTo(Duration.ofSeconds(1));
        assertThat(RateLimitHeaders.duration("20ms")).isEqualTo(Duration.ofMillis(20));
        assertThat(RateLimitHeaders.duration("1h2m3.5s")).isEqualTo(Duration.ofMillis(3_723_500));
        assertThat(RateLimitHeaders.duration("0.5s")).isEqualTo(Duration.ofMillis(500));
        assertThat(RateLimitHeaders.duration("2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(RateLimitHeaders.duration("soon")).isNull();
        assertThat(RateLimitHeaders.duration("")).isNull();
    }

    @Test
    void anOpenAiResponse() {
        Headers h = Headers.of("x-ratelimit-limit-requests", "500", "x-ratelimit-remaining-requests", "499",
                "x-ratelimit-reset-requests", "120ms", "x-ratelimit-limit-tokens", "30000",
                "x-ratelimit-remaining-tokens", "29000", "x-ratelimit-reset-tokens", "2s");
        RateLimitSnapshot s = RateLimitHeaders.parse(h, NOW);
        assertThat(s.requestLimit()).isEqualTo(500);
        assertThat(s.requestRemaining()).isEqualTo(499);
        assertThat(s.requestReset()).isEqualTo(NOW.plusMillis(120));
        assertThat(s.tokenLimit()).isEqualTo(30_000);
        assertThat(s.tokenRemaining()).isEqualTo(29_000);
        assertThat(s.tokenReset()).isEqualTo(NOW.plusSeconds(2));
        assertThat(s.retryAfter()).isNull();
    }

    @Test
    void anAnthropicResponsePrefersTheCombinedTokenLimit() {
        Headers h = Headers.of("anthropic-ratelimit-requests-limit", "50", "anthropic-ratelimit-requests-remaining", "49",
                "anthropic-ratelimit-requests-reset", "2026-12-05T12:00:01Z",
                "anthropic-ratelimit-input-tokens-limit", "40000", "anthropic-ratelimit-input-tokens-remaining", "39000",
                "anthropic-ratelimit-input-tokens-reset", "2026-12-05T12:00:02Z",
                "anthropic-ratelimit-tokens-limit", "48000", "anthropic-ratelimit-tokens-remaining", "47000",
                "anthropic-ratelimit-tokens-reset", "2026-12-05T12:00:03+00:00");
        RateLimitSnapshot s = RateLimitHeaders.parse(h, NOW);
        assertThat(s.requestLimit()).isEqualTo(50);
        assertThat(s.requestRemaining()).isEqualTo(49);
        assertThat(s.requestReset()).isEqualTo(NOW.plusSeconds(1));
        assertThat(s.tokenLimit()).isEqualTo(48_000);
        assertThat(s.tokenRemaining()).isEqualTo(47_000);
        assertThat(s.tokenReset()).isEqualTo(NOW.plusSeconds(3));

        RateLimitSnapshot inputOnly = RateLimitHeaders.parse(Headers.of("anthropic-ratelimit-input-tokens-limit", "40000",
                "anthropic-ratelimit-input-tokens-remaining", "39000"), NOW);
        assertThat(inputOnly.tokenRemaining()).isEqualTo(39_000);
    }

    @Test
    void theIetfDraftInBothSyntaxes() {
        RateLimitSnapshot current = RateLimitHeaders.parse(Headers.of("RateLimit-Policy", "\"default\";q=100;w=60",
                "RateLimit", "\"default\";r=42;t=30"), NOW);
        assertThat(current.requestLimit()).isEqualTo(100);
        assertThat(current.requestRemaining()).isEqualTo(42);
        assertThat(current.requestReset()).isEqualTo(NOW.plusSeconds(30));
        RateLimitSnapshot earlier = RateLimitHeaders.parse(Headers.of("RateLimit-Limit", "100, 100;w=60",
                "RateLimit-Remaining", "7", "RateLimit-Reset", "12"), NOW);
        assertThat(earlier.requestLimit()).isEqualTo(100);
        assertThat(earlier.requestRemaining()).isEqualTo(7);
        assertThat(earlier.requestReset()).isEqualTo(NOW.plusSeconds(12));
    }

    @Test
    void retryAfterInSecondsAsADateAndInMilliseconds() {
        assertThat(RateLimitHeaders.parse(Headers.of("retry-after", "7"), NOW).retryAfter()).isEqualTo(Duration.ofSeconds(7));
        assertThat(RateLimitHeaders.parse(Headers.of("retry-after", "Sat, 05 Dec 2026 12:00:09 GMT"), NOW).retryAfter())
                .isEqualTo(Duration.ofSeconds(9));
        assertThat(RateLimitHeaders.parse(Headers.of("retry-after-ms", "250", "retry-after", "1"), NOW).retryAfter())
                .isEqualTo(Duration.ofMillis(250));
    }

    @Test
    void malformedValuesAreIgnored() {
        RateLimitSnapshot s = RateLimitHeaders.parse(Headers.of("x-ratelimit-limit-requests", "lots",
                "x-ratelimit-remaining-requests", "-3", "x-ratelimit-reset-requests", "tomorrow",
                "anthropic-ratelimit-tokens-reset", "not a date", "retry-after", "later"), NOW);
        assertThat(s.requestLimit()).isEqualTo(-1);
        assertThat(s.requestRemaining()).isEqualTo(-1);
        assertThat(s.requestReset()).isNull();
        assertThat(s.retryAfter()).isNull();
        assertThat(RateLimitHeaders.parse(Headers.of("content-type", "application/json"), NOW).isEmpty()).isTrue();
    }
}

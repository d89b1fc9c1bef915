package io.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The enforced rate limit ({@link MockOptions#enforceRateLimits()}): exact remaining counts, 429
 * with retry-after and the providers' error bodies, refill by the (injected) clock, one budget
 * across connections, protocols and APIs, the token budget, and the header formats parsed back.
 * Real sockets on loopback through the JDK client; time only moves when a test advances the
 * clock, so nothing sleeps.
 */
@Timeout(60)
class RateLimitTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant START = Instant.parse("2025-01-01T00:00:00Z");
    private static final String CHAT = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    private static final String MESSAGES =
            "{\"model\":\"claude-x\",\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    /** A clock that moves only when told to. Thread-safe (volatile). */
    static final class ManualClock extends Clock {
        private volatile long ms;

        ManualClock(Instant start) {
            this.ms = start.toEpochMilli();
        }

        void advance(Duration d) {
            ms += d.toMillis();
        }

        @Override
        public long millis() {
            return ms;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(ms);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }

    private static MockProvider start(ManualClock clock, long requests, long tokens) {
        return MockProvider.start(MockOptions.builder()
                .enforceRateLimits(true)
                .rateLimitRequests(requests)
                .rateLimitTokens(tokens)
                .rateLimitWindow(Duration.ofSeconds(60))
                .rateLimitClock(clock)
                .build());
    }

    /**
     * OpenAI's reset durations, Go's time.Duration syntax as OpenAI sends it ("20ms", "1s", "6m0s",
     * "1m26.4s", "1h0m0s"), back to milliseconds; anything else fails the test.
     */
    static long parseOpenAiDuration(String s) {
        Matcher ms = Pattern.compile("(\\d+)ms").matcher(s);
        if (ms.matches()) {
            return Long.parseLong(ms.group(1));
        }
        Matcher m = Pattern.compile("(?:(\\d+)h)?(?:(\\d+)m)?(\\d+)(?:\\.(\\d{1,3}))?s").matcher(s);
        assertThat(m.matches()).as("OpenAI duration syntax: '%s'", s).isTrue();
        long total = 0;
        if (m.group(1) != null) {
            total += Long.parseLong(m.group(1)) * 3_600_000;
            assertThat(m.group(2)).as("Go writes minutes after hours: '%s'", s).isNotNull();
        }
        if (m.group(2) != null) {
            long min = Long.parseLong(m.group(2));
            assertThat(m.group(1) == null || min < 60).isTrue();
            total += min * 60_000;
        }
        long sec = Long.parseLong(m.group(3));
        assertThat(m.group(2) == null || sec < 60).as("seconds below 60 after minutes: '%s'", s).isTrue();
        total += sec * 1000;
        if (m.group(4) != null) {
            assertThat(m.group(4)).as("no trailing zeros: '%s'", s).doesNotEndWith("0");
            total += Long.parseLong((m.group(4) + "00").substring(0, 3));
        }
        return total;
    }

    /** An Anthropic reset value: RFC 3339 (ISO_OFFSET_DATE_TIME accepts its profile) to an instant. */
    static Instant parseRfc3339(String s) {
        assertThat(s).matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})");
        return OffsetDateTime.parse(s, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
    }

    private static JsonNode json(Call.Result r) throws Exception {
        return JSON.readTree(r.body());
    }

    @Test
    void requestsCountDownExactlyThen429UntilTheClockRefillsOne() throws Exception {
        ManualClock clock = new ManualClock(START);
        try (MockProvider mock = start(clock, 5, 1_000_000);
                Call h1 = Call.jdk(mock, HttpClient.Version.HTTP_1_1, false)) {
            for (int i = 1; i <= 5; i++) {
                Call.Result r = h1.send("POST", "/v1/chat/completions", CHAT);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.header("x-ratelimit-limit-requests")).isEqualTo("5");
                assertThat(r.header("x-ratelimit-remaining-requests")).isEqualTo(Long.toString(5 - i));
                // 5 per 60 s refill one every 12 s; i taken means full again after 12·i s.
                assertThat(parseOpenAiDuration(r.header("x-ratelimit-reset-requests"))).isEqualTo(12_000L * i);
                assertThat(r.header("x-ratelimit-limit-tokens")).isEqualTo("1000000");
                assertThat(r.header("retry-after")).isNull();
            }

            Call.Result refused = h1.send("POST", "/v1/chat/completions", CHAT);
            assertThat(refused.status()).isEqualTo(429);
            assertThat(refused.header("retry-after")).isEqualTo("12");
            assertThat(refused.header("retry-after-ms")).isEqualTo("12000");
            assertThat(refused.header("x-ratelimit-remaining-requests")).isEqualTo("0");
            assertThat(refused.header("x-ratelimit-reset-requests")).isEqualTo("1m0s");
            JsonNode err = json(refused).path("error");
            assertThat(err.path("code").asText()).isEqualTo("rate_limit_exceeded");
            assertThat(err.path("type").asText()).isEqualTo("requests");
            assertThat(err.path("message").asText()).contains("Limit 5").contains("Please try again in 12s");

            // Refused requests took nothing: other paths report the state without taking from it.
            Call.Result models = h1.send("GET", "/v1/models", null);
            assertThat(models.status()).isEqualTo(200);
            assertThat(models.header("x-ratelimit-remaining-requests")).isEqualTo("0");
            assertThat(parseOpenAiDuration(models.header("x-ratelimit-reset-requests"))).isEqualTo(60_000);
            assertThat(models.header("x-ratelimit-reset-requests")).isEqualTo("1m0s");

            clock.advance(Duration.ofMillis(11_999));
            Call.Result almost = h1.send("POST", "/v1/chat/completions", CHAT);
            assertThat(almost.status()).isEqualTo(429);
            assertThat(almost.header("retry-after-ms")).isEqualTo("1");
            assertThat(almost.header("retry-after")).isEqualTo("1"); // rounded up, never 0
            assertThat(parseOpenAiDuration(almost.header("x-ratelimit-reset-requests"))).isEqualTo(48_001);

            clock.advance(Duration.ofMillis(1));
            Call.Result again = h1.send("POST", "/v1/chat/completions", CHAT);
            assertThat(again.status()).isEqualTo(200);
            assertThat(again.header("x-ratelimit-remaining-requests")).isEqualTo("0");
            assertThat(again.header("x-ratelimit-reset-requests")).isEqualTo("1m0s");

            clock.advance(Duration.ofMinutes(5)); // long idle: full, not more than full
            Call.Result full = h1.send("POST", "/v1/chat/completions", CHAT);
            assertThat(full.header("x-ratelimit-remaining-requests")).isEqualTo("4");

            MockStats stats = mock.stats();
            assertThat(stats.rateLimitAdmitted()).isEqualTo(7);
            assertThat(stats.rateLimitRejected()).isEqualTo(2);
            assertThat(stats.requests("/v1/chat/completions")).isEqualTo(9);
        }
    }

    @Test
    void anthropicHeadersAreRfc3339InstantsAnd429IsARateLimitError() throws Exception {
        ManualClock clock = new ManualClock(START);
        try (MockProvider mock = start(clock, 3, 1_000_000);
                Call h2 = Call.jdk(mock, HttpClient.Version.HTTP_2, true)) {
            long bodyTokens = MESSAGES.getBytes(StandardCharsets.UTF_8).length / 4;
            for (int i = 1; i <= 3; i++) {
                Call.Result r = h2.send("POST", "/v1/messages", MESSAGES);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.protocol()).isEqualTo("HTTP_2");
                assertThat(r.header("anthropic-ratelimit-requests-limit")).isEqualTo("3");
                assertThat(r.header("anthropic-ratelimit-requests-remaining")).isEqualTo(Long.toString(3 - i));
                // One request refills every 20 s.
                assertThat(parseRfc3339(r.header("anthropic-ratelimit-requests-reset")))
                        .isEqualTo(START.plusSeconds(20L * i));
                long spent = i * (bodyTokens + 64);
                for (String kind : new String[] {"tokens", "input-tokens", "output-tokens"}) {
                    assertThat(r.header("anthropic-ratelimit-" + kind + "-limit")).isEqualTo("1000000");
                    assertThat(r.header("anthropic-ratelimit-" + kind + "-remaining"))
                            .isEqualTo(Long.toString(1_000_000 - spent));
                }
                // spent tokens at 1e6 per 60 s refill in spent·0.06 ms, rounded up to the second.
                assertThat(parseRfc3339(r.header("anthropic-ratelimit-tokens-reset")))
                        .isEqualTo(START.plusSeconds(1));
                assertThat(r.header("request-id")).startsWith("req_");
            }
            clock.advance(Duration.ofMillis(500));
            Call.Result refused = h2.send("POST", "/v1/messages", MESSAGES);
            assertThat(refused.status()).isEqualTo(429);
            assertThat(refused.header("retry-after")).isEqualTo("20"); // 19.5 s, rounded up
            assertThat(refused.header("retry-after-ms")).isEqualTo("19500");
            JsonNode body = json(refused);
            assertThat(body.path("type").asText()).isEqualTo("error");
            assertThat(body.path("error").path("type").asText()).isEqualTo("rate_limit_error");
            assertThat(body.path("error").path("message").asText()).contains("3 requests per 1m0s");
            assertThat(refused.header("anthropic-ratelimit-requests-remaining")).isEqualTo("0");
            assertThat(parseRfc3339(refused.header("anthropic-ratelimit-requests-reset")))
                    .isEqualTo(START.plusSeconds(60));
            assertThat(mock.stats().rateLimitRejected()).isEqualTo(1);
        }
    }

    @Test
    void oneBudgetAcrossHttp1AndHttp2ConnectionsAndBothApis() throws Exception {
        ManualClock clock = new ManualClock(START);
        try (MockProvider mock = start(clock, 4, 1_000_000);
                Call h1 = Call.jdk(mock, HttpClient.Version.HTTP_1_1, false);
                Call h2 = Call.jdk(mock, HttpClient.Version.HTTP_2, true)) {
            Call.Result a = h1.send("POST", "/v1/chat/completions", CHAT);
            Call.Result b = h2.send("POST", "/v1/chat/completions", CHAT);
            Call.Result c = h1.send("POST", "/v1/messages", MESSAGES);
            Call.Result d = h2.send("POST", "/v1/messages", MESSAGES);
            assertThat(a.protocol()).isEqualTo("HTTP_1_1");
            assertThat(b.protocol()).isEqualTo("HTTP_2");
            assertThat(a.header("x-ratelimit-remaining-requests")).isEqualTo("3");
            assertThat(b.header("x-ratelimit-remaining-requests")).isEqualTo("2");
            assertThat(c.header("anthropic-ratelimit-requests-remaining")).isEqualTo("1");
            assertThat(d.header("anthropic-ratelimit-requests-remaining")).isEqualTo("0");
            assertThat(h1.send("POST", "/v1/responses", "{\"model\":\"m\",\"input\":\"hi\"}").status()).isEqualTo(429);
            assertThat(h2.send("POST", "/v1/embeddings", "{\"model\":\"m\",\"input\":\"hi\"}").status()).isEqualTo(429);
            assertThat(mock.stats().http2Connections()).isEqualTo(1);
            assertThat(mock.stats().connectionsAccepted()).isEqualTo(2);

            mock.resetRateLimits();
            assertThat(h2.send("POST", "/v1/chat/completions", CHAT).header("x-ratelimit-remaining-requests"))
                    .isEqualTo("3");
            assertThat(mock.stats().rateLimitAdmitted()).isEqualTo(5);
            assertThat(mock.stats().rateLimitRejected()).isEqualTo(2);
        }
    }

    @Test
    void theTokenBudgetChargesThePromptEstimateAndMaxTokens() throws Exception {
        ManualClock clock = new ManualClock(START);
        try (MockProvider mock = start(clock, 1000, 1000);
                Call h1 = Call.jdk(mock, HttpClient.Version.HTTP_1_1, false)) {
            String big = "{\"model\":\"gpt-4o-mini\",\"max_tokens\":600,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
            long cost = big.getBytes(StandardCharsets.UTF_8).length / 4 + 600;
            Call.Result first = h1.send("POST", "/v1/chat/completions", big);
            assertThat(first.status()).isEqualTo(200);
            assertThat(first.header("x-ratelimit-remaining-tokens")).isEqualTo(Long.toString(1000 - cost));
            assertThat(first.header("x-ratelimit-remaining-requests")).isEqualTo("999");
            // 1000 tokens per 60 s: each token refills in 60 ms.
            assertThat(parseOpenAiDuration(first.header("x-ratelimit-reset-tokens"))).isEqualTo(cost * 60);

            Call.Result second = h1.send("POST", "/v1/chat/completions", big);
            assertThat(second.status()).isEqualTo(429);
            long deficit = cost - (1000 - cost);
            assertThat(second.header("retry-after-ms")).isEqualTo(Long.toString(deficit * 60));
            assertThat(second.header("retry-after")).isEqualTo(Long.toString((deficit * 60 + 999) / 1000));
            JsonNode err = json(second).path("error");
            assertThat(err.path("type").asText()).isEqualTo("tokens");
            assertThat(err.path("code").asText()).isEqualTo("rate_limit_exceeded");
            assertThat(err.path("message").asText()).contains("Requested " + cost);
            assertThat(second.header("x-ratelimit-remaining-requests")).isEqualTo("999"); // took nothing

            // A request smaller than what is left still fits: the refusal was about its size.
            String small = "{\"model\":\"m\",\"max_completion_tokens\":10,\"messages\":[]}";
            long smallCost = small.getBytes(StandardCharsets.UTF_8).length / 4 + 10;
            Call.Result fits = h1.send("POST", "/v1/chat/completions", small);
            assertThat(fits.status()).isEqualTo(200);
            assertThat(fits.header("x-ratelimit-remaining-tokens")).isEqualTo(Long.toString(1000 - cost - smallCost));

            // More than the whole budget never fits, however full the bucket.
            clock.advance(Duration.ofMinutes(1));
            Call.Result tooBig = h1.send("POST", "/v1/messages",
                    "{\"model\":\"c\",\"max_tokens\":5000,\"messages\":[]}");
            assertThat(tooBig.status()).isEqualTo(429);
            assertThat(Long.parseLong(tooBig.header("retry-after"))).isGreaterThanOrEqualTo(1);
            assertThat(json(tooBig).path("error").path("type").asText()).isEqualTo("rate_limit_error");
            assertThat(tooBig.header("anthropic-ratelimit-tokens-remaining")).isEqualTo("1000");
        }
    }

    @Test
    void draftHeadersWhenAskedFor() throws Exception {
        ManualClock clock = new ManualClock(START);
        try (MockProvider mock = MockProvider.start(MockOptions.builder().enforceRateLimits(true)
                        .rateLimitRequests(100).rateLimitTokens(50_000).rateLimitClock(clock)
                        .rateLimitDraftHeaders(true).build());
                Call h1 = Call.jdk(mock, HttpClient.Version.HTTP_1_1, false)) {
            Call.Result r = h1.send("POST", "/v1/chat/completions", CHAT);
            long cost = CHAT.getBytes(StandardCharsets.UTF_8).length / 4 + 16;
            assertThat(r.header("ratelimit-policy"))
                    .isEqualTo("\"requests\";q=100;w=60, \"tokens\";q=50000;qu=\"tokens\";w=60");
            // 1 of 100 per 60 s refills in 0.6 s, rounded up to 1 s.
            assertThat(r.header("ratelimit"))
                    .isEqualTo("\"requests\";r=99;t=1, \"tokens\";r=" + (50_000 - cost) + ";t=1");
        }
    }

    @Test
    void offByDefaultNothingIsRefused() throws Exception {
        try (MockProvider mock = MockProvider.start(MockOptions.builder().rateLimitRequests(1).build());
                Call h1 = Call.jdk(mock, HttpClient.Version.HTTP_1_1, false)) {
            for (int i = 0; i < 3; i++) {
                Call.Result r = h1.send("POST", "/v1/chat/completions", CHAT);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.header("x-ratelimit-limit-requests")).isEqualTo("1");
                parseOpenAiDuration(r.header("x-ratelimit-reset-requests"));
            }
            assertThat(mock.stats().rateLimitAdmitted()).isZero();
            assertThat(mock.stats().rateLimitRejected()).isZero();
        }
    }

    @Test
    void openAiDurationsAreGoDurations() {
        long[] values = {0, 1, 20, 999, 1000, 1500, 1388, 59_999, 60_000, 86_400, 360_000, 3_600_000, 3_723_004};
        String[] expected = {"0s", "1ms", "20ms", "999ms", "1s", "1.5s", "1.388s", "59.999s", "1m0s", "1m26.4s",
            "6m0s", "1h0m0s", "1h2m3.004s"};
        for (int i = 0; i < values.length; i++) {
            String s = ProviderHeaders.formatDuration(values[i]);
            assertThat(s).isEqualTo(expected[i]);
            assertThat(parseOpenAiDuration(s)).isEqualTo(values[i]);
        }
        assertThat(ProviderHeaders.instant(START.toEpochMilli() + 1)).isEqualTo("2025-01-01T00:00:01Z");
        assertThat(ProviderHeaders.instant(START.toEpochMilli())).isEqualTo("2025-01-01T00:00:00Z");
    }

    @Test
    void badOptionsAreRefused() {
        assertThatThrownBy(() -> MockOptions.builder().rateLimitWindow(Duration.ZERO).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rateLimitWindow");
        assertThatThrownBy(() -> MockOptions.builder().rateLimitWindow(Duration.ofDays(2)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("24 h");
        assertThatThrownBy(() -> MockOptions.builder().rateLimitWindow(Duration.ofNanos(1_500_000)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("whole milliseconds");
        assertThatThrownBy(() -> MockOptions.builder().enforceRateLimits(true).rateLimitTokens(Long.MAX_VALUE / 10)
                .build()).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rateLimitTokens");
        // Not enforced: the same figure is only a header value, as before.
        assertThat(MockOptions.builder().rateLimitTokens(Long.MAX_VALUE / 10).build().rateLimitTokens())
                .isEqualTo(Long.MAX_VALUE / 10);
    }
}

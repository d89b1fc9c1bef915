package io.sluice.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.RateLimitedException;
import io.sluice.http.Timeouts;
import io.sluice.pool.PoolConfig;
import io.sluice.testkit.adversary.AdversaryH2Server;
import io.sluice.testkit.adversary.H2Script;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The IETF draft's fields announce a quota and the seconds until it resets, and say nothing about a continuous
 * refill; servers that send them (API gateways, rate-limit proxies) commonly count fixed windows: nothing comes back
 * before the reset, then the whole quota. A budget that assumed the OpenAI/Anthropic model (refilling linearly to
 * full at the reset) would admit requests the server refuses: with 0 of 5 left and 30 s to the reset, one request
 * after 6 s. OpenAI's and Anthropic's own fields describe a continuously replenished budget and keep that model.
 */
@Timeout(60)
class WindowedBudgetTest {

    private static ConnectionPoolManager client(RateLimiter limits) {
        return limits.instrument(ConnectionPoolManager.builder().h2cPriorKnowledge(true).statusRetries(false)
                .poolConfig(PoolConfig.builder().minIdle(0).maxRetries(0).build())
                .timeouts(new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(5), null)))
                .build();
    }

    private static HttpRequest get(URI base) {
        return HttpRequest.newBuilder(base.resolve("/v1/models")).header("authorization", "Bearer sk-window").build();
    }

    private static RateLimitedException refusal(ConnectionPoolManager client, URI base) throws Exception {
        try {
            client.send(get(base)).get(20, TimeUnit.SECONDS);
            return null;
        } catch (ExecutionException e) {
            return e.getCause() instanceof RateLimitedException r ? r : null;
        }
    }

    @Test
    void anIetfQuotaComesBackWholeAtItsResetNotBitByBit() throws Exception {
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(H2Script.stream().headers(200, false,
                        "ratelimit-policy", "\"default\";q=5;w=30", "ratelimit", "\"default\";r=0;t=30")
                .data("{}", true)).start();
             RateLimiter limits = RateLimiter.builder().mode(RateLimiter.Mode.FAIL).build();
             ConnectionPoolManager client = client(limits)) {
            assertThat(client.send(get(server.uri())).get(20, TimeUnit.SECONDS).status()).isEqualTo(200);
            RateLimitedException refused = refusal(client, server.uri());
            assertThat(refused).as("0 left: refused").isNotNull();
            assertThat(refused.retryAfter()).as("room comes back at the reset, not 6 s into the window")
                    .isGreaterThan(Duration.ofSeconds(25));
        }
    }

    @Test
    void openAisBudgetStillRefillsContinuously() throws Exception {
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(H2Script.stream().headers(200, false,
                        "x-ratelimit-limit-requests", "5", "x-ratelimit-remaining-requests", "0",
                        "x-ratelimit-reset-requests", "30s").data("{}", true)).start();
             RateLimiter limits = RateLimiter.builder().mode(RateLimiter.Mode.FAIL).build();
             ConnectionPoolManager client = client(limits)) {
            assertThat(client.send(get(server.uri())).get(20, TimeUnit.SECONDS).status()).isEqualTo(200);
            RateLimitedException refused = refusal(client, server.uri());
            assertThat(refused).isNotNull();
            assertThat(refused.retryAfter()).as("one request refills in 30 s / 5").isLessThan(Duration.ofSeconds(7));
        }
    }

    @Test
    void theWholeQuotaComesBackAtTheResetAndNotBefore() {
        Dimension d = new Dimension();
        long now = 1_000_000_000L;
        d.observe(5, 0, now + 100_000_000L, now, true);
        assertThat(d.fits(1, now + 99_000_000L)).as("1 ms before the reset").isFalse();
        assertThat(d.nanosUntil(1, now + 50_000_000L)).isEqualTo(50_000_000L);
        assertThat(d.fits(5, now + 100_000_000L)).as("at the reset: all five").isTrue();
        assertThat(d.available(now + 100_000_000L)).isEqualTo(5.0);
    }

    @Test
    void theIetfFieldsAreReadAsAWindowAndTheProvidersAsARefill() {
        java.time.Instant wall = java.time.Instant.parse("2026-12-05T12:00:00Z");
        io.sluice.http.Headers ietf = io.sluice.http.Headers.of("ratelimit-policy", "\"default\";q=5;w=30",
                "ratelimit", "\"default\";r=2;t=30");
        io.sluice.http.Headers openAi = io.sluice.http.Headers.of("x-ratelimit-limit-requests", "5",
                "x-ratelimit-remaining-requests", "2", "x-ratelimit-reset-requests", "30s");
        assertThat(RateLimitHeaders.parse(ietf, wall).requestWindowed()).isTrue();
        assertThat(RateLimitHeaders.parse(openAi, wall).requestWindowed()).isFalse();
    }
}

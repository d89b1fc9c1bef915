package io.sluice.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.http.ClientClosedException;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.RateLimitedException;
import io.sluice.http.RequestTimeoutException;
import io.sluice.http.Timeouts;
import io.sluice.pool.PoolConfig;
import io.sluice.testkit.adversary.AdversaryH2Server;
import io.sluice.testkit.adversary.H2Script;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The limiter against a scripted HTTP/2 server that announces its limits as OpenAI does: a spent budget refuses
 * (FAIL) or holds (WAIT) the next request before anything is sent; held requests go out in order as the budget
 * refills; a request whose deadline comes first fails TOTAL with nothing sent; a 429 empties the budget for its
 * retry-after; budgets are per API key (by hash); the token budget counts the request's estimate.
 */
@Timeout(30)
class RateLimiterTest {

    private static final String KEY_A = "Bearer sk-key-a-secret";
    private static final String KEY_B = "Bearer sk-key-b-secret";

    private static H2Script announcing(long limit, long remaining, String reset) {
        return H2Script.stream().headers(200, false, "x-ratelimit-limit-requests", Long.toString(limit),
                "x-ratelimit-remaining-requests", Long.toString(remaining), "x-ratelimit-reset-requests", reset)
                .data("{}", true);
    }

    private static ConnectionPoolManager client(RateLimiter limits, Timeouts timeouts) {
        return limits.instrument(ConnectionPoolManager.builder().h2cPriorKnowledge(true).statusRetries(false)
                .poolConfig(PoolConfig.builder().minIdle(0).maxRetries(0).build()).timeouts(timeouts)).build();
    }

    private static Timeouts timeouts(Duration total) {
        return new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(5), total);
    }

    private static HttpRequest get(AdversaryH2Server server, String key, int seq) {
        return HttpRequest.newBuilder(server.uri().resolve("/v1/models")).header("authorization", key)
                .header("x-seq", Integer.toString(seq)).build();
    }

    private static Throwable failure(CompletableFuture<?> f) throws Exception {
        try {
            f.get(15, TimeUnit.SECONDS);
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

    @Test
    void aSpentBudgetRefusesTheNextRequestBeforeAnythingIsSent() throws Exception {
        try (RateLimiter limits = RateLimiter.builder().mode(RateLimiter.Mode.FAIL).build();
             AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(announcing(3, 0, "60s")).start();
             ConnectionPoolManager client = client(limits, timeouts(null))) {
            assertThat(client.sendBlocking(get(server, KEY_A, 1)).status()).as("unknown budget: admitted").isEqualTo(200);
            Throwable refused = failure(client.send(get(server, KEY_A, 2)));
            assertThat(refused).isInstanceOfSatisfying(RateLimitedException.class, e -> {
                assertThat(e.budget()).isEqualTo("requests");
                // 3 per 60 s refilling: one request's room in about 20 s
                assertThat(e.retryAfter()).isBetween(Duration.ofSeconds(15), Duration.ofSeconds(21));
            });
            assertThat(server.streams()).as("the refused request never reached the server").hasSize(1);
            RateLimitStats stats = limits.stats();
            assertThat(stats.rejected()).isEqualTo(1);
            assertThat(stats.budgets()).singleElement().satisfies(b -> {
                assertThat(b.keyHash()).hasSize(16).doesNotContain("sk-");
                assertThat(b.requestsAvailable()).isLessThan(1);
            });
            assertThat(stats.toString()).doesNotContain("sk-key-a-secret");
        }
    }

    @Test
    void heldRequestsGoOutInOrderAsTheBudgetRefills() throws Exception {
        // 1 request per 300 ms, none left: each of the next four waits for its turn
        try (RateLimiter limits = RateLimiter.builder().build();
             AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(announcing(1, 0, "300ms")).start();
             ConnectionPoolManager client = client(limits, timeouts(null))) {
            assertThat(client.sendBlocking(get(server, KEY_A, 0)).status()).isEqualTo(200);
            List<CompletableFuture<HttpResponse>> held = new ArrayList<>();
            for (int i = 1; i <= 4; i++) {
                held.add(client.send(get(server, KEY_A, i)));
            }
            for (CompletableFuture<HttpResponse> f : held) {
                assertThat(f.get(15, TimeUnit.SECONDS).status()).isEqualTo(200);
            }
            List<String> order = server.streams().stream().map(s -> s.headers().get("x-seq").get(0)).toList();
            assertThat(order).as("first come, first served").containsExactly("0", "1", "2", "3", "4");
            assertThat(limits.stats().shaped()).isEqualTo(4);
            assertThat(limits.stats().shapedNanos()).isPositive();
        }
    }

    @Test
    void aRequestWhoseDeadlineComesFirstFailsWithNothingSent() throws Exception {
        try (RateLimiter limits = RateLimiter.builder().build();
             AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(announcing(1, 0, "60s")).start();
             ConnectionPoolManager client = client(limits, timeouts(Duration.ofMillis(300)))) {
            assertThat(client.sendBlocking(get(server, KEY_A, 0)).status()).isEqualTo(200);
            assertThat(failure(client.send(get(server, KEY_A, 1)))).isInstanceOfSatisfying(RequestTimeoutException.class,
                    e -> assertThat(e.phase()).isEqualTo(RequestTimeoutException.Phase.TOTAL));
            assertThat(server.streams()).hasSize(1);
            assertThat(limits.stats().budgets().get(0).waiting()).as("the timed-out waiter left the queue").isZero();
        }
    }

    @Test
    void aMaxWaitShorterThanTheWaitRefusesAtOnce() throws Exception {
        try (RateLimiter limits = RateLimiter.builder().maxWait(Duration.ofSeconds(1)).build();
             AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(announcing(1, 0, "60s")).start();
             ConnectionPoolManager client = client(limits, timeouts(null))) {
            client.sendBlocking(get(server, KEY_A, 0));
            assertThat(failure(client.send(get(server, KEY_A, 1)))).isInstanceOf(RateLimitedException.class);
        }
    }

    @Test
    void a429EmptiesTheBudgetForItsRetryAfterAndBudgetsArePerKey() throws Exception {
        H2Script tooMany = H2Script.stream().headers(429, false, "retry-after", "30").data("{\"error\":{}}", true);
        try (RateLimiter limits = RateLimiter.builder().mode(RateLimiter.Mode.FAIL).build();
             AdversaryH2Server server = AdversaryH2Server.builder().scripts(tooMany).defaultScript(H2Script.ok()).start();
             ConnectionPoolManager client = client(limits, timeouts(null))) {
            assertThat(client.sendBlocking(get(server, KEY_A, 0)).status()).isEqualTo(429);
            assertThat(failure(client.send(get(server, KEY_A, 1)))).isInstanceOfSatisfying(RateLimitedException.class,
                    e -> assertThat(e.retryAfter()).isBetween(Duration.ofSeconds(25), Duration.ofSeconds(30)));
            assertThat(client.sendBlocking(get(server, KEY_B, 2)).status()).as("another key has its own budget")
                    .isEqualTo(200);
            assertThat(limits.stats().seen429()).isEqualTo(1);
            assertThat(limits.stats().budgets()).hasSize(2);
        }
    }

    @Test
    void theTokenBudgetCountsTheRequestsEstimate() throws Exception {
        H2Script tokens = H2Script.stream().headers(200, false, "x-ratelimit-limit-tokens", "10000",
                "x-ratelimit-remaining-tokens", "100", "x-ratelimit-reset-tokens", "60s").data("{}", true);
        try (RateLimiter limits = RateLimiter.builder().mode(RateLimiter.Mode.FAIL).build();
             AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(tokens).start();
             ConnectionPoolManager client = client(limits, timeouts(null))) {
            HttpRequest small = HttpRequest.newBuilder(server.uri().resolve("/v1/chat/completions"))
                    .header("authorization", KEY_A).POST("{\"max_tokens\":10}").build();
            HttpRequest large = HttpRequest.newBuilder(server.uri().resolve("/v1/chat/completions"))
                    .header("authorization", KEY_A).POST("{\"max_tokens\":5000}").build();
            assertThat(client.sendBlocking(small).status()).isEqualTo(200);
            assertThat(client.sendBlocking(small).status()).as("an estimate of 14 fits in 100").isEqualTo(200);
            assertThat(failure(client.send(large))).isInstanceOfSatisfying(RateLimitedException.class,
                    e -> assertThat(e.budget()).isEqualTo("tokens"));
        }
        String body = "{\"model\":\"m\",\"max_output_tokens\":256}";
        assertThat(TokenEstimate.of(HttpRequest.newBuilder(java.net.URI.create("http://h/")).POST(body).build()))
                .isEqualTo(256 + body.length() / 4);
    }

    @Test
    void closingTheLimiterFailsTheWaitersTyped() throws Exception {
        RateLimiter limits = RateLimiter.builder().build();
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(announcing(1, 0, "60s")).start();
             ConnectionPoolManager client = client(limits, timeouts(null))) {
            client.sendBlocking(get(server, KEY_A, 0));
            CompletableFuture<HttpResponse> waiting = client.send(get(server, KEY_A, 1));
            org.awaitility.Awaitility.await().until(() -> limits.stats().budgets().get(0).waiting() == 1);
            limits.close();
            assertThat(failure(waiting)).isInstanceOf(ClientClosedException.class);
            assertThatThrownBy(() -> client.sendBlocking(get(server, KEY_A, 2))).isInstanceOf(ClientClosedException.class);
            assertThat(server.streams()).hasSize(1);
        }
    }
}

package io.sluice.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.TlsOptions;
import io.sluice.pool.PoolConfig;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The limiter against the mock provider enforcing a limit the way providers do (a continuously refilling
 * bucket, OpenAI's headers, 429 with retry-after): once one response announced the budget, a burst larger
 * than it is shaped to the refill rate and the provider answers no 429 at all; without the limiter the same
 * burst gets 429s.
 */
@Timeout(60)
class MockLimitShapingTest {

    private static final String KEY = "sk-shaping-test";

    private static List<HttpResponse> burst(ConnectionPoolManager client, MockProvider mock, int n) throws Exception {
        List<CompletableFuture<HttpResponse>> sent = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            sent.add(client.send(HttpRequest.newBuilder(mock.httpsUri().resolve("/v1/chat/completions"))
                    .header("authorization", "Bearer " + KEY).header("content-type", "application/json")
                    .POST("{\"model\":\"gpt-4o-mini\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                    .build()));
        }
        List<HttpResponse> out = new ArrayList<>();
        for (CompletableFuture<HttpResponse> f : sent) {
            out.add(f.get(40, TimeUnit.SECONDS));
        }
        return out;
    }

    private static ConnectionPoolManager.Builder clientFor(MockProvider mock) {
        return ConnectionPoolManager.builder().statusRetries(false)
                .poolConfig(PoolConfig.builder().minIdle(0).maxRetries(0).build())
                .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build());
    }

    private static MockProvider limitedMock() {
        // 20 requests per 2 s: a bucket of 20 that refills at 10 per second
        return MockProvider.start(MockOptions.builder().enforceRateLimits(true).rateLimitRequests(20)
                .rateLimitWindow(Duration.ofSeconds(2)).build());
    }

    @Test
    void aShapedBurstGetsNo429() throws Exception {
        try (MockProvider mock = limitedMock(); RateLimiter limits = RateLimiter.builder().build();
             ConnectionPoolManager client = limits.instrument(clientFor(mock)).build()) {
            assertThat(burst(client, mock, 1)).allSatisfy(r -> assertThat(r.status()).isEqualTo(200)); // learns the budget
            List<HttpResponse> shaped = burst(client, mock, 40);
            assertThat(shaped).extracting(HttpResponse::status).containsOnly(200);
            assertThat(mock.stats().rateLimitRejected()).as("429s at the provider").isZero();
            assertThat(limits.stats().shaped()).as("requests that waited for room").isPositive();
        }
    }

    @Test
    void withoutTheLimiterTheSameBurstGets429s() throws Exception {
        try (MockProvider mock = limitedMock(); ConnectionPoolManager client = clientFor(mock).build()) {
            burst(client, mock, 1);
            List<HttpResponse> unshaped = burst(client, mock, 40);
            assertThat(unshaped).extracting(HttpResponse::status).contains(429);
            assertThat(mock.stats().rateLimitRejected()).isPositive();
        }
    }
}

package io.sluice.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.client.OpenAIClient;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.RateLimitedException;
import io.sluice.http.TlsOptions;
import io.sluice.openai.SluiceOpenAI;
import io.sluice.pool.PoolConfig;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The official OpenAI SDK over Sluice: its requests carry their token cost in the body the SDK serialises
 * ({@code max_completion_tokens} and the prompt), so the limiter estimates and shapes them like any other request.
 * Against a provider allowing 1 000 tokens a minute, after a small call announced the budget, a call asking for
 * 900 completion tokens does not fit what remains and is refused before it is sent; a small one still goes.
 */
@Timeout(60)
class SdkTokenEstimateTest {

    private static final String KEY = "sk-sdk-estimate";

    @Test
    void anSdkCallWhoseCompletionLimitDoesNotFitIsRefusedBeforeItIsSent() {
        try (MockProvider mock = MockProvider.start(MockOptions.builder().enforceRateLimits(true)
                .rateLimitRequests(100).rateLimitTokens(1000).rateLimitWindow(Duration.ofMinutes(1)).build());
             RateLimiter limits = RateLimiter.builder().mode(RateLimiter.Mode.FAIL).build();
             ConnectionPoolManager pools = limits.instrument(SluiceOpenAI.poolManagerBuilder()
                     .poolConfig(PoolConfig.builder().minIdle(0).build())
                     .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build())).build()) {
            OpenAIClient sdk = SluiceOpenAI.builder().poolManager(pools).apiKey(KEY)
                    .baseUrl(mock.httpsUri() + "/v1").maxRetries(0).build();
            try {
                sdk.chat().completions().create(params(100)); // announces the budget: ~880 tokens left
                assertThat(mock.stats().requests("/v1/chat/completions")).isEqualTo(1);

                assertThatThrownBy(() -> sdk.chat().completions().create(params(900)))
                        .satisfies(e -> assertThat(rateLimited(e)).as("RateLimitedException in the chain of " + e)
                                .isNotNull().extracting(RateLimitedException::budget).isEqualTo("tokens"));
                assertThat(mock.stats().requests("/v1/chat/completions")).as("the refused call was never sent").isEqualTo(1);

                sdk.chat().completions().create(params(100));
                assertThat(mock.stats().requests("/v1/chat/completions")).isEqualTo(2);
                assertThat(mock.stats().rateLimitRejected()).as("429s at the provider").isZero();
                assertThat(limits.stats().rejected()).isEqualTo(1);
            } finally {
                sdk.close();
            }
        }
    }

    private static ChatCompletionCreateParams params(long maxTokens) {
        return ChatCompletionCreateParams.builder().model("gpt-test").addUserMessage("Hello")
                .maxCompletionTokens(maxTokens).build();
    }

    private static RateLimitedException rateLimited(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof RateLimitedException r) {
                return r;
            }
        }
        return null;
    }
}

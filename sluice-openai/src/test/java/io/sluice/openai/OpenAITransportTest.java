package io.sluice.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.openai.client.OpenAIClient;
import com.openai.core.RequestOptions;
import com.openai.core.Timeout;
import com.openai.core.http.StreamResponse;
import com.openai.errors.OpenAIIoException;
import com.openai.errors.OpenAIServiceException;
import com.openai.errors.RateLimitException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.TlsOptions;
import io.sluice.pool.PoolConfig;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import io.sluice.testkit.MockTokens;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The real OpenAI SDK over Sluice against the testkit's TLS HTTP/2 server. */
class OpenAITransportTest {

    static final String KEY = "sk-openai-test-secret";
    static MockProvider mock;
    static ConnectionPoolManager pools;
    static OpenAIClient client;

    @BeforeAll
    static void start() {
        mock = MockProvider.start(MockOptions.builder().requiredApiKey(KEY).build());
        pools = SluiceOpenAI.poolManagerBuilder()
                .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build())
                .poolConfig(PoolConfig.builder().maxConnections(2).minIdle(1).build())
                .build();
        client = SluiceOpenAI.builder()
                .poolManager(pools)
                .apiKey(KEY)
                .baseUrl(mock.httpsUri() + "/v1")
                .maxRetries(2)
                .build();
    }

    @AfterAll
    static void stop() {
        client.close();
        pools.close();
        mock.close();
    }

    static ChatCompletionCreateParams.Builder params() {
        return ChatCompletionCreateParams.builder().model("gpt-test").addUserMessage("Hello");
    }

    static String text(ChatCompletion c) {
        return c.choices().get(0).message().content().orElse("");
    }

    @Test
    void chatCompletionReturnsTheMockAnswerOverHttp2() {
        ChatCompletion c = client.chat().completions().create(params().putAdditionalHeader("x-mock-tokens", "5").build());

        assertThat(text(c)).isEqualTo(MockTokens.text(5));
        assertThat(mock.stats().http2Connections()).isEqualTo(mock.stats().connectionsAccepted());
    }

    @Test
    void streamedTokensArriveBeforeTheServerHasWrittenTheLastOne() {
        ChatCompletionCreateParams p = params().putAdditionalHeader("x-mock-tokens", "8")
                .putAdditionalHeader("x-mock-token-delay-ms", "50").build();
        StringBuilder text = new StringBuilder();
        long openStreamsAtFirstToken = -1;
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(p)) {
            Iterator<ChatCompletionChunk> it = stream.stream().iterator();
            while (it.hasNext()) {
                ChatCompletionChunk chunk = it.next();
                for (ChatCompletionChunk.Choice choice : chunk.choices()) {
                    if (choice.delta().content().isPresent()) {
                        if (openStreamsAtFirstToken < 0) {
                            openStreamsAtFirstToken = mock.stats().openStreams();
                        }
                        text.append(choice.delta().content().get());
                    }
                }
            }
        }
        // Seven more tokens were still to come, 50 ms apart: the server's stream was open.
        assertThat(openStreamsAtFirstToken).isGreaterThanOrEqualTo(1);
        assertThat(text.toString()).isEqualTo(MockTokens.text(8));
    }

    @Test
    void rateLimitIsRetriedByTheSdkExactlyMaxRetriesTimes() {
        long before = mock.stats().requests("/v1/chat/completions");
        ChatCompletionCreateParams p = params().putAdditionalHeader("x-mock-status", "429")
                .putAdditionalHeader("x-mock-retry-after-ms", "5").build();

        assertThatThrownBy(() -> client.chat().completions().create(p)).isInstanceOf(RateLimitException.class);

        // maxRetries(2): three requests, and none added by Sluice (its status retries are off)
        assertThat(mock.stats().requests("/v1/chat/completions") - before).isEqualTo(3);
    }

    /**
     * Whatever manager the SDK is given, its status retries stay off for the SDK's requests: the SDK retries on its
     * own, and two retry loops would multiply (3 SDK attempts × 4 Sluice attempts = 12 requests against a provider
     * that is already rate-limiting).
     */
    @Test
    void sdkRequestsTurnStatusRetriesOffEvenOnAManagerThatHasThemOn() {
        try (MockProvider own = MockProvider.start(MockOptions.builder().requiredApiKey(KEY).build());
             ConnectionPoolManager retrying = ConnectionPoolManager.builder().statusRetries(true)
                     .poolConfig(PoolConfig.builder().maxConnections(1).minIdle(0).build())
                     .tls(TlsOptions.builder().trustCertificatePem(own.certificatePem()).build()).build()) {
            OpenAIClient sdk = SluiceOpenAI.builder().poolManager(retrying).apiKey(KEY)
                    .baseUrl(own.httpsUri() + "/v1").maxRetries(2).build();
            ChatCompletionCreateParams p = params().putAdditionalHeader("x-mock-status", "503")
                    .putAdditionalHeader("x-mock-retry-after-ms", "5").build();

            assertThatThrownBy(() -> sdk.chat().completions().create(p)).isInstanceOf(OpenAIServiceException.class);

            assertThat(own.stats().requests("/v1/chat/completions")).isEqualTo(3);
            sdk.close();
        }
    }

    @Test
    void errorEventMidStreamSurfacesAsTheSdkException() {
        ChatCompletionCreateParams p = params().putAdditionalHeader("x-mock-tokens", "6")
                .putAdditionalHeader("x-mock-error-after-tokens", "2").build();
        List<ChatCompletionChunk> seen = new ArrayList<>();

        assertThatThrownBy(() -> {
            try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(p)) {
                stream.stream().forEach(seen::add);
            }
        }).isInstanceOf(OpenAIServiceException.class);
        assertThat(seen).isNotEmpty();
    }

    @Test
    void perCallTimeoutFailsWithTheSdkIoExceptionAndFreesTheSlot() {
        OpenAIClient noRetries = client.withOptions(o -> o.maxRetries(0));
        long before = mock.stats().requests("/v1/chat/completions");
        RequestOptions shortTimeout = RequestOptions.builder()
                .timeout(Timeout.builder().request(Duration.ofMillis(300)).build()).build();

        assertThatThrownBy(() -> noRetries.chat().completions()
                .create(params().putAdditionalHeader("x-mock-blackhole", "true").build(), shortTimeout))
                .isInstanceOf(OpenAIIoException.class)
                .hasMessageContaining("timeout")
                .hasMessageNotContaining(KEY);

        assertThat(mock.stats().requests("/v1/chat/completions") - before).isEqualTo(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> mock.stats().openStreams() == 0);
    }

    @Test
    void hundredSequentialAndHundredConcurrentCallsShareTwoConnectionsAtMost() {
        for (int i = 0; i < 100; i++) {
            assertThat(text(client.chat().completions().create(params().build()))).isEqualTo(MockTokens.text(16));
        }
        List<CompletableFuture<ChatCompletion>> calls = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            calls.add(client.async().chat().completions()
                    .create(params().putAdditionalHeader("x-mock-delay-ms", "20").build()));
        }
        calls.forEach(f -> assertThat(text(f.join())).isEqualTo(MockTokens.text(16)));

        assertThat(mock.stats().connectionsAccepted()).isLessThanOrEqualTo(2);
        assertThat(mock.stats().http2Connections()).isEqualTo(mock.stats().connectionsAccepted());
        assertThat(mock.stats().maxStreamsOnOneConnection()).isGreaterThan(1); // multiplexed
    }
}

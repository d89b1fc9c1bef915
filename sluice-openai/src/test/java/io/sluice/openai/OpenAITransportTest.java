package io.sluice.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import io.sluice.http.sdk.contract.SdkClientContract;
import io.sluice.pool.PoolConfig;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The real OpenAI SDK over Sluice against the testkit's TLS HTTP/2 server: the SDK client contract, and status retries. */
class OpenAITransportTest extends SdkClientContract {

    @Override
    protected ConnectionPoolManager.Builder poolManagerBuilder() {
        return SluiceOpenAI.poolManagerBuilder();
    }

    @Override
    protected Client client(ConnectionPoolManager pools, URI mockBase, String apiKey, int maxRetries) {
        OpenAIClient sdk = SluiceOpenAI.builder().poolManager(pools).apiKey(apiKey).baseUrl(mockBase + "/v1")
                .maxRetries(maxRetries).build();
        return new Client() {
            @Override
            public String call(Map<String, String> headers) {
                return text(sdk.chat().completions().create(params(headers)));
            }

            @Override
            public CompletableFuture<String> callAsync(Map<String, String> headers) {
                return sdk.async().chat().completions().create(params(headers)).thenApply(OpenAITransportTest::text);
            }

            @Override
            public void stream(Map<String, String> headers, Consumer<String> onEvent) {
                try (StreamResponse<ChatCompletionChunk> stream = sdk.chat().completions().createStreaming(params(headers))) {
                    stream.stream().forEach(chunk -> onEvent.accept(text(chunk)));
                }
            }

            @Override
            public String callOnce(Map<String, String> headers, Duration requestTimeout) {
                RequestOptions timeout = RequestOptions.builder()
                        .timeout(Timeout.builder().request(requestTimeout).build()).build();
                return text(sdk.withOptions(o -> o.maxRetries(0)).chat().completions().create(params(headers), timeout));
            }

            @Override
            public void close() {
                sdk.close();
            }
        };
    }

    @Override
    protected String path() {
        return "/v1/chat/completions";
    }

    @Override
    protected Class<? extends Exception> rateLimitException() {
        return RateLimitException.class;
    }

    @Override
    protected Class<? extends Exception> serviceException() {
        return OpenAIServiceException.class;
    }

    @Override
    protected Class<? extends Exception> ioException() {
        return OpenAIIoException.class;
    }

    static ChatCompletionCreateParams params(Map<String, String> headers) {
        ChatCompletionCreateParams.Builder b = ChatCompletionCreateParams.builder().model("gpt-test").addUserMessage("Hello");
        headers.forEach(b::putAdditionalHeader);
        return b.build();
    }

    static String text(ChatCompletion c) {
        return c.choices().get(0).message().content().orElse("");
    }

    /** The chunk's text; null when no choice carries content. */
    static String text(ChatCompletionChunk chunk) {
        List<String> parts = chunk.choices().stream().flatMap(choice -> choice.delta().content().stream()).toList();
        return parts.isEmpty() ? null : String.join("", parts);
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
            ChatCompletionCreateParams p = params(Map.of("x-mock-status", "503", "x-mock-retry-after-ms", "5"));

            assertThatThrownBy(() -> sdk.chat().completions().create(p)).isInstanceOf(OpenAIServiceException.class);

            assertThat(own.stats().requests("/v1/chat/completions")).isEqualTo(3);
            sdk.close();
        }
    }

    /** A private CA without building a manager by hand: the TLS options go to the manager the client owns. */
    @Test
    void tlsOptionsGoStraightToTheClientsOwnManager() throws Exception {
        try (MockProvider own = MockProvider.start(MockOptions.builder().requiredApiKey(KEY).build())) {
            java.nio.file.Path ca = java.nio.file.Files.createTempFile("mock-ca", ".pem");
            try {
                java.nio.file.Files.writeString(ca, own.certificatePem());
                OpenAIClient sdk = SluiceOpenAI.builder().tls(TlsOptions.builder().trustCertificatePemFile(ca).build())
                        .apiKey(KEY).baseUrl(own.httpsUri() + "/v1").build();
                assertThat(text(sdk.chat().completions().create(params(Map.of())))).isNotBlank();
                sdk.close();
                OpenAIClient untrusting = SluiceOpenAI.builder().apiKey(KEY).baseUrl(own.httpsUri() + "/v1").maxRetries(0)
                        .build();
                assertThatThrownBy(() -> untrusting.chat().completions().create(params(Map.of())))
                        .as("the mock's certificate is not trusted without the option").isInstanceOf(OpenAIIoException.class);
                untrusting.close();
            } finally {
                java.nio.file.Files.deleteIfExists(ca);
            }
            try (ConnectionPoolManager shared = SluiceOpenAI.poolManagerBuilder().build()) {
                assertThatThrownBy(() -> SluiceOpenAI.builder().poolManager(shared).tls(TlsOptions.defaults()).apiKey(KEY).build())
                        .isInstanceOf(IllegalStateException.class).hasMessageContaining("shared");
            }
        }
    }
}

package io.sluice.anthropic;

import com.anthropic.client.AnthropicClient;
import com.anthropic.core.RequestOptions;
import com.anthropic.core.Timeout;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.errors.AnthropicIoException;
import com.anthropic.errors.AnthropicServiceException;
import com.anthropic.errors.RateLimitException;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.sdk.contract.SdkClientContract;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/** The real Anthropic SDK over Sluice against the testkit's TLS HTTP/2 server: the SDK client contract. */
class AnthropicTransportTest extends SdkClientContract {

    @Override
    protected ConnectionPoolManager.Builder poolManagerBuilder() {
        return SluiceAnthropic.poolManagerBuilder();
    }

    @Override
    protected Client client(ConnectionPoolManager pools, URI mockBase, String apiKey, int maxRetries) {
        AnthropicClient sdk = SluiceAnthropic.builder().poolManager(pools).apiKey(apiKey).baseUrl(mockBase.toString())
                .maxRetries(maxRetries).build();
        return new Client() {
            @Override
            public String call(Map<String, String> headers) {
                return text(sdk.messages().create(params(headers)));
            }

            @Override
            public CompletableFuture<String> callAsync(Map<String, String> headers) {
                return sdk.async().messages().create(params(headers)).thenApply(AnthropicTransportTest::text);
            }

            @Override
            public void stream(Map<String, String> headers, Consumer<String> onEvent) {
                try (StreamResponse<RawMessageStreamEvent> stream = sdk.messages().createStreaming(params(headers))) {
                    stream.stream().forEach(e -> onEvent.accept(text(e)));
                }
            }

            @Override
            public String callOnce(Map<String, String> headers, Duration requestTimeout) {
                RequestOptions timeout = RequestOptions.builder()
                        .timeout(Timeout.builder().request(requestTimeout).build()).build();
                return text(sdk.withOptions(o -> o.maxRetries(0)).messages().create(params(headers), timeout));
            }

            @Override
            public void close() {
                sdk.close();
            }
        };
    }

    @Override
    protected String path() {
        return "/v1/messages";
    }

    @Override
    protected Class<? extends Exception> rateLimitException() {
        return RateLimitException.class;
    }

    @Override
    protected Class<? extends Exception> serviceException() {
        return AnthropicServiceException.class;
    }

    @Override
    protected Class<? extends Exception> ioException() {
        return AnthropicIoException.class;
    }

    static MessageCreateParams params(Map<String, String> headers) {
        MessageCreateParams.Builder b = MessageCreateParams.builder().model("claude-test").maxTokens(256).addUserMessage("Hello");
        headers.forEach(b::putAdditionalHeader);
        return b.build();
    }

    static String text(Message m) {
        StringBuilder sb = new StringBuilder();
        m.content().forEach(b -> b.text().ifPresent(t -> sb.append(t.text())));
        return sb.toString();
    }

    /** A content block delta's text ("" when it carries none); null for any other event. */
    static String text(RawMessageStreamEvent e) {
        return e.contentBlockDelta().map(d -> d.delta().text().map(t -> t.text()).orElse("")).orElse(null);
    }
}

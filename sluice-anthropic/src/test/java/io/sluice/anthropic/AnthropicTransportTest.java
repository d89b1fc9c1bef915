package io.sluice.anthropic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

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

/** The real Anthropic SDK over Sluice against the testkit's TLS HTTP/2 server. */
class AnthropicTransportTest {

    static final String KEY = "sk-ant-test-secret";
    static MockProvider mock;
    static ConnectionPoolManager pools;
    static AnthropicClient client;

    @BeforeAll
    static void start() {
        mock = MockProvider.start(MockOptions.builder().requiredApiKey(KEY).build());
        pools = SluiceAnthropic.poolManagerBuilder()
                .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build())
                .poolConfig(PoolConfig.builder().maxConnections(2).minIdle(1).build())
                .build();
        client = SluiceAnthropic.builder()
                .poolManager(pools)
                .apiKey(KEY)
                .baseUrl(mock.httpsUri().toString())
                .maxRetries(2)
                .build();
    }

    @AfterAll
    static void stop() {
        client.close();
        pools.close();
        mock.close();
    }

    static MessageCreateParams.Builder params() {
        return MessageCreateParams.builder().model("claude-test").maxTokens(256).addUserMessage("Hello");
    }

    static String text(Message m) {
        StringBuilder sb = new StringBuilder();
        m.content().forEach(b -> b.text().ifPresent(t -> sb.append(t.text())));
        return sb.toString();
    }

    @Test
    void messageCallReturnsTheMockAnswerOverHttp2() {
        Message m = client.messages().create(params().putAdditionalHeader("x-mock-tokens", "5").build());

        assertThat(text(m)).isEqualTo(MockTokens.text(5));
        assertThat(mock.stats().http2Connections()).isEqualTo(mock.stats().connectionsAccepted());
    }

    @Test
    void streamedTokensArriveBeforeTheServerHasWrittenTheLastOne() {
        MessageCreateParams p = params().putAdditionalHeader("x-mock-tokens", "8")
                .putAdditionalHeader("x-mock-token-delay-ms", "50").build();
        StringBuilder text = new StringBuilder();
        long openStreamsAtFirstToken = -1;
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(p)) {
            Iterator<RawMessageStreamEvent> it = stream.stream().iterator();
            while (it.hasNext()) {
                RawMessageStreamEvent e = it.next();
                if (e.contentBlockDelta().isPresent()) {
                    if (openStreamsAtFirstToken < 0) {
                        openStreamsAtFirstToken = mock.stats().openStreams();
                    }
                    e.contentBlockDelta().get().delta().text().ifPresent(t -> text.append(t.text()));
                }
            }
        }
        // Seven more tokens were still to come, 50 ms apart: the server's stream was open.
        assertThat(openStreamsAtFirstToken).isGreaterThanOrEqualTo(1);
        assertThat(text.toString()).isEqualTo(MockTokens.text(8));
    }

    @Test
    void rateLimitIsRetriedByTheSdkExactlyMaxRetriesTimes() {
        long before = mock.stats().requests("/v1/messages");
        MessageCreateParams p = params().putAdditionalHeader("x-mock-status", "429")
                .putAdditionalHeader("x-mock-retry-after-ms", "5").build();

        assertThatThrownBy(() -> client.messages().create(p)).isInstanceOf(RateLimitException.class);

        // maxRetries(2): three requests, and none added by Sluice (its status retries are off)
        assertThat(mock.stats().requests("/v1/messages") - before).isEqualTo(3);
    }

    @Test
    void errorEventMidStreamSurfacesAsTheSdkException() {
        MessageCreateParams p = params().putAdditionalHeader("x-mock-tokens", "6")
                .putAdditionalHeader("x-mock-error-after-tokens", "2").build();
        List<RawMessageStreamEvent> seen = new ArrayList<>();

        assertThatThrownBy(() -> {
            try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(p)) {
                stream.stream().forEach(seen::add);
            }
        }).isInstanceOf(AnthropicServiceException.class);
        assertThat(seen).isNotEmpty();
    }

    @Test
    void perCallTimeoutFailsWithTheSdkIoExceptionAndFreesTheSlot() {
        AnthropicClient noRetries = client.withOptions(o -> o.maxRetries(0));
        long before = mock.stats().requests("/v1/messages");
        RequestOptions shortTimeout = RequestOptions.builder()
                .timeout(Timeout.builder().request(Duration.ofMillis(300)).build()).build();

        assertThatThrownBy(() -> noRetries.messages()
                .create(params().putAdditionalHeader("x-mock-blackhole", "true").build(), shortTimeout))
                .isInstanceOf(AnthropicIoException.class)
                .hasMessageContaining("timeout")
                .hasMessageNotContaining(KEY);

        assertThat(mock.stats().requests("/v1/messages") - before).isEqualTo(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> mock.stats().openStreams() == 0);
    }

    @Test
    void hundredSequentialAndHundredConcurrentCallsShareTwoConnectionsAtMost() {
        for (int i = 0; i < 100; i++) {
            assertThat(text(client.messages().create(params().build()))).isEqualTo(MockTokens.text(16));
        }
        List<CompletableFuture<Message>> calls = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            calls.add(client.async().messages().create(params().putAdditionalHeader("x-mock-delay-ms", "20").build()));
        }
        calls.forEach(f -> assertThat(text(f.join())).isEqualTo(MockTokens.text(16)));

        assertThat(mock.stats().connectionsAccepted()).isLessThanOrEqualTo(2);
        assertThat(mock.stats().http2Connections()).isEqualTo(mock.stats().connectionsAccepted());
        assertThat(mock.stats().maxStreamsOnOneConnection()).isGreaterThan(1); // multiplexed
    }
}

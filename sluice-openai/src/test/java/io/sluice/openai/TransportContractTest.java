package io.sluice.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.openai.core.RequestOptions;
import com.openai.core.http.HttpMethod;
import com.openai.core.http.HttpRequest;
import com.openai.core.http.HttpRequestBody;
import com.openai.core.http.HttpResponse;
import com.openai.errors.OpenAIIoException;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.TlsOptions;
import io.sluice.pool.PoolConfig;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What the transport promises the SDK, checked on the transport itself: slots, cancellation, close, secrets. */
class TransportContractTest {

    static final String KEY = "sk-contract-secret";
    static MockProvider mock;
    static ConnectionPoolManager pools;

    @BeforeAll
    static void start() {
        mock = MockProvider.start(MockOptions.builder().requiredApiKey(KEY).build());
        pools = SluiceOpenAI.poolManagerBuilder()
                .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build())
                .poolConfig(PoolConfig.builder().maxConnections(2).minIdle(1).build())
                .build();
    }

    @AfterAll
    static void stop() {
        pools.close();
        mock.close();
    }

    static SluiceOpenAIHttpClient transport() {
        return SluiceOpenAIHttpClient.create(pools);
    }

    static HttpRequest.Builder streamRequest() {
        return HttpRequest.builder().method(HttpMethod.POST).baseUrl(mock.httpsUri().toString())
                .addPathSegments("v1", "chat", "completions").putHeader("Authorization", "Bearer " + KEY)
                .body(new JsonBody("{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));
    }

    @Test
    void futureCompletesAtHeadersAndTheBodyIsLive() throws Exception {
        try (SluiceOpenAIHttpClient t = transport()) {
            HttpResponse r = t.executeAsync(streamRequest().putHeader("x-mock-tokens", "5")
                    .putHeader("x-mock-token-delay-ms", "50").build(), RequestOptions.none()).join();
            long openAtHeaders = mock.stats().openStreams();
            try (r; InputStream body = r.body()) {
                String text = new String(body.readAllBytes(), StandardCharsets.UTF_8);
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(text).contains("data:");
            }
            assertThat(openAtHeaders).isGreaterThanOrEqualTo(1); // five tokens 50 ms apart were still to come
            assertThat(t.inFlight()).isZero();
        }
    }

    @Test
    void cancellingTheFutureCancelsTheExchangeAndFreesTheSlot() {
        try (SluiceOpenAIHttpClient t = transport()) {
            CompletableFuture<HttpResponse> f = t.executeAsync(
                    streamRequest().putHeader("x-mock-blackhole", "true").build(), RequestOptions.none());
            await().atMost(Duration.ofSeconds(5)).until(() -> mock.stats().openStreams() >= 1);

            f.cancel(false);

            await().atMost(Duration.ofSeconds(5)).until(() -> t.inFlight() == 0 && mock.stats().openStreams() == 0);
            assertThat(pools.allStats().values()).allSatisfy(s -> assertThat(s.leasesOut()).isZero());
        }
    }

    @Test
    void closingABodyBeforeItsEndFreesTheSlot() throws Exception {
        try (SluiceOpenAIHttpClient t = transport()) {
            HttpResponse r = t.execute(streamRequest().putHeader("x-mock-tokens", "500")
                    .putHeader("x-mock-token-delay-ms", "10").build(), RequestOptions.none());
            assertThat(r.body().read()).isNotNegative();

            r.close();

            await().atMost(Duration.ofSeconds(5)).until(() -> t.inFlight() == 0 && mock.stats().openStreams() == 0);
            assertThatThrownBy(() -> r.body().read()).hasMessageContaining("closed");
        }
    }

    @Test
    void closingTheTransportReleasesOnlyItsOwnExchanges() {
        SluiceOpenAIHttpClient doomed = transport();
        CompletableFuture<HttpResponse> pending = doomed.executeAsync(
                streamRequest().putHeader("x-mock-blackhole", "true").build(), RequestOptions.none());
        await().atMost(Duration.ofSeconds(5)).until(() -> mock.stats().openStreams() >= 1);

        doomed.close();

        assertThatThrownBy(pending::join).hasMessageContaining("transport was closed");
        await().atMost(Duration.ofSeconds(5)).until(() -> mock.stats().openStreams() == 0);
        try (SluiceOpenAIHttpClient other = transport(); HttpResponse r = other.execute(streamRequest().build(), RequestOptions.none())) {
            assertThat(r.statusCode()).isEqualTo(200); // the shared pools still serve
        }
    }

    @Test
    void failuresAreRetryableIoExceptionsWithoutSecrets() {
        try (SluiceOpenAIHttpClient t = transport()) {
            RequestOptions shortRead = RequestOptions.builder()
                    .timeout(com.openai.core.Timeout.builder().read(Duration.ofMillis(200)).build()).build();

            assertThatThrownBy(() -> t.execute(streamRequest().putHeader("x-mock-delay-ms", "3000").build(), shortRead))
                    .isInstanceOf(OpenAIIoException.class)
                    .hasMessageContaining("headers timeout")
                    .hasMessageNotContaining(KEY);
        }
    }

    /** A JSON request body as the SDK hands it over. */
    static final class JsonBody implements HttpRequestBody {
        private final byte[] bytes;

        JsonBody(String json) {
            this.bytes = json.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public void writeTo(OutputStream out) {
            try {
                out.write(bytes);
            } catch (java.io.IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public String contentType() {
            return "application/json";
        }

        @Override
        public long contentLength() {
            return bytes.length;
        }

        @Override
        public boolean repeatable() {
            return true;
        }

        @Override
        public void close() {
        }
    }
}

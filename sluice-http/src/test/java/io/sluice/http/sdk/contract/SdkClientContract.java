package io.sluice.http.sdk.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.testkit.MockTokens;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real SDK over Sluice against the mock, through the SDK's own client: answers over HTTP/2, live
 * streaming, the SDK's retries alone (Sluice adds none), mid-stream errors and per-call timeouts as
 * the SDK's exceptions, and a hundred sequential and a hundred concurrent calls on two connections.
 *
 * <p>Each SDK module's {@code *TransportTest} extends this and supplies its client, reduced to the
 * calls the contract makes ({@link Client}), the path its calls go to and the SDK's exception types.
 * The mock, {@link #KEY} and the shared {@link #pools} come from {@link SdkFixture}. Shipped in
 * sluice-http's test-jar.
 */
public abstract class SdkClientContract extends SdkFixture {

    /** The SDK's client built by {@link #client(ConnectionPoolManager, URI, String, int)}, with two SDK retries. */
    protected Client client;

    /** An SDK client over Sluice, reduced to the calls the contract makes; each call asks for the answer's text. */
    protected interface Client extends AutoCloseable {

        /** A call with these extra request headers; returns the answer's text. */
        String call(Map<String, String> headers);

        /** The same call through the SDK's asynchronous client. */
        CompletableFuture<String> callAsync(Map<String, String> headers);

        /**
         * A streamed call: hands each event the SDK yields to {@code onEvent}, with the text it carries
         * ({@code ""} for a text event without text, null for an event of another kind).
         */
        void stream(Map<String, String> headers, Consumer<String> onEvent);

        /** A call without the SDK's retries, with a request timeout of its own. */
        String callOnce(Map<String, String> headers, Duration requestTimeout);

        @Override
        void close();
    }

    /** The SDK's client over {@code pools}, to the mock at {@code mockBase}, with {@code apiKey} and {@code maxRetries}. */
    protected abstract Client client(ConnectionPoolManager pools, URI mockBase, String apiKey, int maxRetries);

    /** The path of the calls, as the mock counts its requests. */
    protected abstract String path();

    /** The SDK's exception for a 429. */
    protected abstract Class<? extends Exception> rateLimitException();

    /** The SDK's exception for an error the provider reports, in a response or mid-stream. */
    protected abstract Class<? extends Exception> serviceException();

    /** The SDK's I/O exception, which it retries. */
    protected abstract Class<? extends Exception> ioException();

    @BeforeAll
    void openClient() {
        client = client(pools, mock.httpsUri(), KEY, 2);
    }

    @AfterAll
    void closeClient() {
        client.close();
    }

    @Test
    void callReturnsTheMockAnswerOverHttp2() {
        assertThat(client.call(Map.of("x-mock-tokens", "5"))).isEqualTo(MockTokens.text(5));
        assertThat(mock.stats().http2Connections()).isEqualTo(mock.stats().connectionsAccepted());
    }

    @Test
    void streamedTokensArriveBeforeTheServerHasWrittenTheLastOne() {
        StringBuilder text = new StringBuilder();
        AtomicLong openStreamsAtFirstToken = new AtomicLong(-1);
        client.stream(Map.of("x-mock-tokens", "8", "x-mock-token-delay-ms", "50"), t -> {
            if (t != null) {
                openStreamsAtFirstToken.compareAndSet(-1, mock.stats().openStreams());
                text.append(t);
            }
        });
        // Seven more tokens were still to come, 50 ms apart: the server's stream was open.
        assertThat(openStreamsAtFirstToken.get()).isGreaterThanOrEqualTo(1);
        assertThat(text.toString()).isEqualTo(MockTokens.text(8));
    }

    @Test
    void rateLimitIsRetriedByTheSdkExactlyMaxRetriesTimes() {
        long before = mock.stats().requests(path());

        assertThatThrownBy(() -> client.call(Map.of("x-mock-status", "429", "x-mock-retry-after-ms", "5")))
                .isInstanceOf(rateLimitException());

        // maxRetries(2): three requests, and none added by Sluice (its status retries are off)
        assertThat(mock.stats().requests(path()) - before).isEqualTo(3);
    }

    @Test
    void errorEventMidStreamSurfacesAsTheSdkException() {
        List<String> seen = new ArrayList<>();

        assertThatThrownBy(() -> client.stream(Map.of("x-mock-tokens", "6", "x-mock-error-after-tokens", "2"), seen::add))
                .isInstanceOf(serviceException());
        assertThat(seen).isNotEmpty();
    }

    @Test
    void perCallTimeoutFailsWithTheSdkIoExceptionAndFreesTheSlot() {
        long before = mock.stats().requests(path());

        assertThatThrownBy(() -> client.callOnce(Map.of("x-mock-blackhole", "true"), Duration.ofMillis(300)))
                .isInstanceOf(ioException())
                .hasMessageContaining("timeout")
                .hasMessageNotContaining(KEY);

        assertThat(mock.stats().requests(path()) - before).isEqualTo(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> mock.stats().openStreams() == 0);
    }

    @Test
    void hundredSequentialAndHundredConcurrentCallsShareTwoConnectionsAtMost() {
        for (int i = 0; i < 100; i++) {
            assertThat(client.call(Map.of())).isEqualTo(MockTokens.text(16));
        }
        List<CompletableFuture<String>> calls = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            calls.add(client.callAsync(Map.of("x-mock-delay-ms", "20")));
        }
        calls.forEach(f -> assertThat(f.join()).isEqualTo(MockTokens.text(16)));

        assertThat(mock.stats().connectionsAccepted()).isLessThanOrEqualTo(2);
        assertThat(mock.stats().http2Connections()).isEqualTo(mock.stats().connectionsAccepted());
        assertThat(mock.stats().maxStreamsOnOneConnection()).isGreaterThan(1); // multiplexed
    }
}

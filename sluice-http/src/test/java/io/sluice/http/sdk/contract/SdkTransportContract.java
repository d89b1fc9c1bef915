package io.sluice.http.sdk.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * What an SDK transport on {@code io.sluice.http.sdk} promises its SDK, checked on the transport
 * itself: the call completes at the response headers with a live body, cancelling the call or closing
 * the body early frees the slot, closing the transport ends only its own calls, and failures are the
 * SDK's retryable I/O exception without secrets.
 *
 * <p>Each SDK module's {@code TransportContractTest} extends this and supplies the SDK's types: its
 * transport {@code T} and response {@code R}, the streamed request the SDK makes, and the SDK's I/O
 * exception. The mock, {@link #KEY} and the shared {@link #pools} come from {@link SdkFixture}. Shipped
 * in sluice-http's test-jar.
 *
 * @param <T> the SDK's transport type
 * @param <R> the SDK's response type
 */
@SuppressWarnings("try") // T and R may throw InterruptedException from close() as far as javac knows; the SDKs' types do not
public abstract class SdkTransportContract<T extends AutoCloseable, R extends AutoCloseable> extends SdkFixture {

    /** A new transport over the shared {@link #pools}. */
    protected abstract T transport();

    /** Starts a streamed chat request to {@link #mock}, carrying {@link #KEY} and {@code headers}. */
    protected abstract CompletableFuture<R> executeAsync(T transport, Map<String, String> headers);

    /**
     * Sends a streamed chat request to {@link #mock}, carrying {@link #KEY} and {@code headers}, and
     * waits for its response headers.
     *
     * @param readTimeout the call's read timeout; null for the SDK's default
     */
    protected abstract R execute(T transport, Map<String, String> headers, Duration readTimeout);

    protected abstract int statusCode(R response);

    protected abstract InputStream body(R response);

    /** The transport's calls in flight. */
    protected abstract int inFlight(T transport);

    /** The SDK's I/O exception, which the SDK retries. */
    protected abstract Class<? extends Exception> ioExceptionType();

    @Test
    void futureCompletesAtHeadersAndTheBodyIsLive() throws Exception {
        try (T t = transport()) {
            R r = executeAsync(t, Map.of("x-mock-tokens", "5", "x-mock-token-delay-ms", "50")).join();
            long openAtHeaders = mock.stats().openStreams();
            try (r; InputStream body = body(r)) {
                String text = new String(body.readAllBytes(), StandardCharsets.UTF_8);
                assertThat(statusCode(r)).isEqualTo(200);
                assertThat(text).contains("data:");
            }
            assertThat(openAtHeaders).isGreaterThanOrEqualTo(1); // five tokens 50 ms apart were still to come
            assertThat(inFlight(t)).isZero();
        }
    }

    @Test
    void cancellingTheFutureCancelsTheExchangeAndFreesTheSlot() throws Exception {
        try (T t = transport()) {
            CompletableFuture<R> f = executeAsync(t, Map.of("x-mock-blackhole", "true"));
            await().atMost(Duration.ofSeconds(5)).until(() -> mock.stats().openStreams() >= 1);

            f.cancel(false);

            await().atMost(Duration.ofSeconds(5)).until(() -> inFlight(t) == 0 && mock.stats().openStreams() == 0);
            assertThat(pools.allStats().values()).allSatisfy(s -> assertThat(s.leasesOut()).isZero());
        }
    }

    @Test
    void closingABodyBeforeItsEndFreesTheSlot() throws Exception {
        try (T t = transport()) {
            R r = execute(t, Map.of("x-mock-tokens", "500", "x-mock-token-delay-ms", "10"), null);
            assertThat(body(r).read()).isNotNegative();

            r.close();

            await().atMost(Duration.ofSeconds(5)).until(() -> inFlight(t) == 0 && mock.stats().openStreams() == 0);
            assertThatThrownBy(() -> body(r).read()).hasMessageContaining("closed");
        }
    }

    @Test
    void closingTheTransportReleasesOnlyItsOwnExchanges() throws Exception {
        T doomed = transport();
        CompletableFuture<R> pending = executeAsync(doomed, Map.of("x-mock-blackhole", "true"));
        await().atMost(Duration.ofSeconds(5)).until(() -> mock.stats().openStreams() >= 1);

        doomed.close();

        assertThatThrownBy(pending::join).hasMessageContaining("transport was closed");
        await().atMost(Duration.ofSeconds(5)).until(() -> mock.stats().openStreams() == 0);
        try (T other = transport(); R r = execute(other, Map.of(), null)) {
            assertThat(statusCode(r)).isEqualTo(200); // the shared pools still serve
        }
    }

    @Test
    void failuresAreRetryableIoExceptionsWithoutSecrets() throws Exception {
        try (T t = transport()) {
            assertThatThrownBy(() -> execute(t, Map.of("x-mock-delay-ms", "3000"), Duration.ofMillis(200)))
                    .isInstanceOf(ioExceptionType())
                    .hasMessageContaining("headers timeout")
                    .hasMessageNotContaining(KEY);
        }
    }

    /**
     * A JSON request body as the SDK hands it over, as an instance of the SDK's {@code HttpRequestBody}.
     * The SDKs are generated from one template, so their body interfaces have the same methods:
     * {@code writeTo(OutputStream)}, {@code contentType()}, {@code contentLength()}, {@code repeatable()}
     * and {@code close()}; one proxy serves them all (default methods keep their own code).
     */
    protected static <B> B jsonBody(Class<B> sdkBodyInterface, String json) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        InvocationHandler h = (proxy, method, args) -> {
            if (method.isDefault()) {
                return InvocationHandler.invokeDefault(proxy, method, args);
            }
            switch (method.getName()) {
                case "writeTo" -> {
                    try {
                        ((OutputStream) args[0]).write(bytes);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    return null;
                }
                case "contentType" -> {
                    return "application/json";
                }
                case "contentLength" -> {
                    return (long) bytes.length;
                }
                case "repeatable" -> {
                    return true;
                }
                case "close" -> {
                    return null;
                }
                case "toString" -> {
                    return "JsonBody[" + json + "]";
                }
                case "hashCode" -> {
                    return System.identityHashCode(proxy);
                }
                case "equals" -> {
                    return proxy == args[0];
                }
                default -> throw new UnsupportedOperationException(method.toString());
            }
        };
        return sdkBodyInterface.cast(Proxy.newProxyInstance(sdkBodyInterface.getClassLoader(),
                new Class<?>[] {sdkBodyInterface}, h));
    }
}

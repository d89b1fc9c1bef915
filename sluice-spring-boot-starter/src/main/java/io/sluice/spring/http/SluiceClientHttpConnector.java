package io.sluice.spring.http;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.StreamingResponse;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.springframework.core.io.buffer.DataBufferFactory;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.HttpMethod;
import org.springframework.http.client.reactive.ClientHttpConnector;
import org.springframework.http.client.reactive.ClientHttpRequest;
import org.springframework.http.client.reactive.ClientHttpResponse;
import reactor.core.publisher.Mono;

/**
 * A {@link ClientHttpConnector} for {@code WebClient} over a Sluice {@link ConnectionPoolManager}.
 *
 * <pre>{@code
 * WebClient web = WebClient.builder().clientConnector(new SluiceClientHttpConnector(manager)).build();
 * }</pre>
 *
 * <p>Nothing is buffered: the response body is a {@code Flux<DataBuffer>} fed from the network with back-pressure
 * (a server-sent event reaches {@code bodyToFlux} as soon as its bytes arrive), and the request body
 * {@code Publisher<DataBuffer>} is read one buffer at a time as the connection can take it. Each buffer is copied
 * once between Spring's and Sluice's memory so that neither side's buffers outlive their owner's release. The
 * request body publisher must allow a second subscription for Sluice to replay a request the server never processed
 * (WebClient's bodies do).
 *
 * <p>Cancelling the response {@code Mono} or the body subscription frees the pool slot (RST_STREAM on HTTP/2).
 * Timeouts as on {@link SluiceClientHttpRequestFactory}; redirects are not followed.
 *
 * <p><b>Thread-safety:</b> thread-safe once configured; share one. Signals arrive on Sluice's callback threads.
 * <b>Ownership:</b> does not own the manager.
 */
public final class SluiceClientHttpConnector implements ClientHttpConnector {

    private final ConnectionPoolManager manager;
    private final DataBufferFactory buffers;
    private volatile Duration readTimeout;
    private volatile Duration connectTimeout;

    /** A connector over {@code manager}, which stays the caller's. */
    public SluiceClientHttpConnector(ConnectionPoolManager manager) {
        this(manager, DefaultDataBufferFactory.sharedInstance);
    }

    /** A connector whose response buffers come from {@code buffers}. */
    public SluiceClientHttpConnector(ConnectionPoolManager manager, DataBufferFactory buffers) {
        this.manager = Objects.requireNonNull(manager, "manager");
        this.buffers = Objects.requireNonNull(buffers, "buffers");
    }

    /** The longest wait for the response head and for each piece of its body; null for the manager's default. */
    public SluiceClientHttpConnector readTimeout(Duration timeout) {
        this.readTimeout = timeout;
        return this;
    }

    /** The longest wait for a pooled connection, a new one's connect included; null for the manager's default. */
    public SluiceClientHttpConnector connectTimeout(Duration timeout) {
        this.connectTimeout = timeout;
        return this;
    }

    /** The manager requests go through. */
    public ConnectionPoolManager manager() {
        return manager;
    }

    @Override
    public Mono<ClientHttpResponse> connect(HttpMethod method, URI uri,
            Function<? super ClientHttpRequest, Mono<Void>> requestCallback) {
        SluiceReactiveClientHttpRequest request = new SluiceReactiveClientHttpRequest(method, uri, buffers);
        return requestCallback.apply(request).then(Mono.defer(() -> {
            HttpRequest.Builder b = request.toSluice();
            SpringHeaders.applyTimeouts(b, readTimeout, connectTimeout);
            HttpRequest sluiceRequest = b.build();
            return Mono.fromFuture(() -> {
                CompletableFuture<StreamingResponse> f = manager.stream(sluiceRequest);
                return f;
            }, true).map(r -> (ClientHttpResponse) new SluiceReactiveClientHttpResponse(r, buffers))
                    .onErrorMap(java.util.concurrent.CompletionException.class,
                            e -> e.getCause() != null ? e.getCause() : e);
        }));
    }
}

package io.sluice.anthropic;

import io.sluice.http.sdk.PooledCalls;
import io.sluice.http.sdk.LiveExchanges;
import com.anthropic.backends.Backend;
import com.anthropic.core.RequestOptions;
import com.anthropic.core.http.HttpClient;
import com.anthropic.core.http.HttpRequest;
import com.anthropic.core.http.HttpResponse;
import com.anthropic.errors.AnthropicIoException;
import io.sluice.http.ConnectionPoolManager;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The Anthropic SDK's {@link HttpClient} over Sluice's pooled HTTP/2 and HTTP/1.1 connections.
 *
 * <p>Each call completes when the response headers arrive and hands the SDK a live body stream
 * (nothing is buffered, so message streams run as long as the call's timeouts allow: Anthropic
 * streams may run an hour). The call's {@code RequestOptions.timeout} applies per call: read is
 * the longest wait for bytes (headers included), request the deadline of the whole exchange
 * including the streamed body; see {@code docs/sdk-transports.md}. Status retries are left to the
 * SDK: give this transport a manager built with {@link SluiceAnthropic#poolManagerBuilder()}
 * (status retries off); Sluice's transport retries (connect, refused or unprocessed streams, stale
 * connections) stay on and never repeat work the server did. I/O failures and timeouts surface as
 * {@link AnthropicIoException}, which the SDK retries.
 *
 * <p>Like the SDK's OkHttp transport, it runs the {@link Backend}'s steps around every exchange:
 * {@code prepareRequest}, {@code authorizeRequest} and {@code prepareResponse}. Credential values
 * never appear in logs or exception messages.
 *
 * <p><b>Thread-safety:</b> thread-safe; one instance serves any number of concurrent calls.
 * <b>Ownership:</b> shares the {@link ConnectionPoolManager} (unless built by {@link SluiceAnthropic}
 * without one, then it owns it); {@link #close()} cancels this transport's calls in flight, closes
 * their bodies and the backend, and leaves a shared manager serving its other users. Cancelling a
 * future from {@link #executeAsync} cancels the exchange and frees its slot; so does closing a
 * response before the end of its body.
 */
public final class SluiceAnthropicHttpClient implements HttpClient {

    private final ConnectionPoolManager pools;
    private final Backend backend;
    private final boolean ownsPools;
    private final LiveExchanges live = new LiveExchanges();

    private SluiceAnthropicHttpClient(ConnectionPoolManager pools, Backend backend, boolean ownsPools) {
        this.pools = Objects.requireNonNull(pools, "pools");
        this.backend = Objects.requireNonNull(backend, "backend");
        this.ownsPools = ownsPools;
    }

    /**
     * A transport over a shared manager; closing the transport leaves the manager open.
     *
     * @param backend the SDK backend whose request/response steps run around each exchange
     *                (e.g. {@code AnthropicBackend.builder().apiKey(key).build()})
     */
    public static SluiceAnthropicHttpClient create(ConnectionPoolManager pools, Backend backend) {
        return new SluiceAnthropicHttpClient(pools, backend, false);
    }

    /** A transport that owns {@code pools} and closes it in {@link #close()}. */
    static SluiceAnthropicHttpClient owning(ConnectionPoolManager pools, Backend backend) {
        return new SluiceAnthropicHttpClient(pools, backend, true);
    }

    @Override
    public HttpResponse execute(HttpRequest request, RequestOptions requestOptions) {
        CompletableFuture<HttpResponse> f = executeAsync(request, requestOptions);
        try {
            return f.get();
        } catch (InterruptedException e) {
            f.cancel(false);
            Thread.currentThread().interrupt();
            throw new AnthropicIoException("Request interrupted", e);
        } catch (ExecutionException e) {
            throw AnthropicErrors.map(e.getCause());
        } catch (CancellationException e) {
            throw new AnthropicIoException("Request cancelled", e);
        }
    }

    @Override
    public CompletableFuture<HttpResponse> executeAsync(HttpRequest request, RequestOptions requestOptions) {
        io.sluice.http.HttpRequest sluiceRequest;
        try {
            HttpRequest authorized = backend.authorizeRequest(backend.prepareRequest(request));
            sluiceRequest = AnthropicRequests.toSluice(authorized, requestOptions);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(AnthropicErrors.map(e));
        } finally {
            // The body is in bytes now (or failed to get there); the SDK closes it after the call anyway.
            request.body().ifPresent(SluiceAnthropicHttpClient::closeQuietly);
        }
        return PooledCalls.start(pools, sluiceRequest, live, this::prepare, AnthropicErrors::map);
    }

    /** The backend's response step; the response is closed when it throws, so the slot is freed. */
    private HttpResponse prepare(io.sluice.http.StreamingResponse response, java.io.InputStream body) {
        SluiceAnthropicResponse r = new SluiceAnthropicResponse(response, body);
        try {
            return backend.prepareResponse(r);
        } catch (RuntimeException e) {
            r.close();
            throw e;
        }
    }

    private static void closeQuietly(com.anthropic.core.http.HttpRequestBody body) {
        try {
            body.close();
        } catch (RuntimeException ignored) {
            // the bytes are already taken; nothing depends on this close
        }
    }

    /** Number of this transport's exchanges in flight (pending, or with a body not yet ended or closed). */
    public int inFlight() {
        return live.size();
    }

    /**
     * Releases this transport: cancels its pending calls, closes its open bodies and the backend.
     * A shared manager stays open for its other users; an owned one is closed. Idempotent.
     */
    @Override
    public void close() {
        if (live.closed()) {
            return;
        }
        live.closeAll();
        backend.close();
        if (ownsPools) {
            pools.close();
        }
    }

    @Override
    public String toString() {
        return "SluiceAnthropicHttpClient[" + backend.baseUrl() + ", inFlight=" + live.size()
                + (ownsPools ? ", owns its pools" : ", shared pools") + "]";
    }
}

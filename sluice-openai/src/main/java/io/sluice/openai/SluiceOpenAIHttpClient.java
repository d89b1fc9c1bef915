package io.sluice.openai;

import io.sluice.http.sdk.PooledCalls;
import io.sluice.http.sdk.LiveExchanges;
import com.openai.core.RequestOptions;
import com.openai.core.http.HttpClient;
import com.openai.core.http.HttpRequest;
import com.openai.core.http.HttpRequestBody;
import com.openai.core.http.HttpResponse;
import com.openai.errors.OpenAIIoException;
import io.sluice.http.ConnectionPoolManager;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The OpenAI SDK's {@link HttpClient} over Sluice's pooled HTTP/2 and HTTP/1.1 connections.
 *
 * <p>Each call completes when the response headers arrive and hands the SDK a live body stream
 * (nothing is buffered, so streamed completions run as long as the call's timeouts allow). The
 * call's {@code RequestOptions} timeout applies per call: read is the longest wait for bytes
 * (headers included), request the deadline of the whole exchange including the streamed body;
 * see {@code docs/sdk-transports.md}. Status retries are left to the SDK: give this transport a
 * manager built with {@link SluiceOpenAI#poolManagerBuilder()} (status retries off); Sluice's
 * transport retries (connect, refused or unprocessed streams, stale connections) stay on and never
 * repeat work the server did. I/O failures and timeouts surface as {@link OpenAIIoException},
 * which the SDK retries. Credential values never appear in logs or exception messages.
 *
 * <p><b>Thread-safety:</b> thread-safe; one instance serves any number of concurrent calls.
 * <b>Ownership:</b> shares the {@link ConnectionPoolManager} (unless built by {@link SluiceOpenAI}
 * without one, then it owns it); {@link #close()} cancels this transport's calls in flight and
 * closes their bodies, and leaves a shared manager serving its other users. Cancelling a future
 * from {@link #executeAsync} cancels the exchange and frees its slot; so does closing a response
 * before the end of its body.
 */
public final class SluiceOpenAIHttpClient implements HttpClient {

    private final ConnectionPoolManager pools;
    private final boolean ownsPools;
    private final LiveExchanges live = new LiveExchanges();

    private SluiceOpenAIHttpClient(ConnectionPoolManager pools, boolean ownsPools) {
        this.pools = Objects.requireNonNull(pools, "pools");
        this.ownsPools = ownsPools;
    }

    /** A transport over a shared manager; closing the transport leaves the manager open. */
    public static SluiceOpenAIHttpClient create(ConnectionPoolManager pools) {
        return new SluiceOpenAIHttpClient(pools, false);
    }

    /** A transport that owns {@code pools} and closes it in {@link #close()}. */
    static SluiceOpenAIHttpClient owning(ConnectionPoolManager pools) {
        return new SluiceOpenAIHttpClient(pools, true);
    }

    @Override
    public HttpResponse execute(HttpRequest request, RequestOptions requestOptions) {
        CompletableFuture<HttpResponse> f = executeAsync(request, requestOptions);
        try {
            return f.get();
        } catch (InterruptedException e) {
            f.cancel(false);
            Thread.currentThread().interrupt();
            throw new OpenAIIoException("Request interrupted", e);
        } catch (ExecutionException e) {
            throw OpenAIErrors.map(e.getCause());
        } catch (CancellationException e) {
            throw new OpenAIIoException("Request cancelled", e);
        }
    }

    @Override
    public CompletableFuture<HttpResponse> executeAsync(HttpRequest request, RequestOptions requestOptions) {
        io.sluice.http.HttpRequest sluiceRequest;
        try {
            sluiceRequest = OpenAIRequests.toSluice(request, requestOptions);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(OpenAIErrors.map(e));
        } finally {
            closeQuietly(request.body()); // in bytes now (or failed to get there); the SDK closes it after the call anyway
        }
        return PooledCalls.start(pools, sluiceRequest, live, SluiceOpenAIResponse::new, OpenAIErrors::map);
    }

    private static void closeQuietly(HttpRequestBody body) {
        if (body == null) {
            return;
        }
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
     * Releases this transport: cancels its pending calls and closes its open bodies. A shared
     * manager stays open for its other users; an owned one is closed. Idempotent.
     */
    @Override
    public void close() {
        if (live.closed()) {
            return;
        }
        live.closeAll();
        if (ownsPools) {
            pools.close();
        }
    }

    @Override
    public String toString() {
        return "SluiceOpenAIHttpClient[inFlight=" + live.size()
                + (ownsPools ? ", owns its pools" : ", shared pools") + "]";
    }
}

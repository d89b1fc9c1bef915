package io.sluice.langchain4j;

import io.sluice.http.sdk.PooledCalls;
import io.sluice.http.sdk.LiveExchanges;
import dev.langchain4j.exception.HttpException;
import dev.langchain4j.http.client.HttpClient;
import dev.langchain4j.http.client.HttpRequest;
import dev.langchain4j.http.client.SuccessfulHttpResponse;
import dev.langchain4j.http.client.sse.ServerSentEventListener;
import dev.langchain4j.http.client.sse.ServerSentEventParser;
import io.sluice.http.ConnectionPoolManager;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;

/**
 * LangChain4j's {@link HttpClient} over Sluice's pooled HTTP/2 and HTTP/1.1 connections.
 *
 * <p>{@link #execute(HttpRequest)} returns the whole body of a 2xx response and throws
 * LangChain4j's {@link HttpException} (status and body) for any other status. The SSE variant
 * returns at once; when the headers arrive the body is handed, as a live unbuffered stream, to the
 * given parser on a Sluice reader thread, so events reach the listener as the server writes them.
 * Failures reach the caller as LangChain4j exceptions ({@link LangChain4jErrors}): timeouts as
 * {@code TimeoutException}, other I/O as {@code RetriableException}. Status retries are left to
 * LangChain4j (managers from {@link SluiceLangChain4j#poolManagerBuilder()} have them off).
 * Cancelling a stream through LangChain4j's parsing handle closes the body, which resets the
 * HTTP/2 stream and frees the slot. Credential values never appear in logs or exception messages.
 *
 * <p><b>Thread-safety:</b> thread-safe. <b>Ownership:</b> never owns the manager. LangChain4j never
 * closes its HTTP clients; {@link #close()} is there for callers who want to release this client's
 * exchanges in flight, and it leaves the manager serving its other users.
 */
public final class SluiceLangChain4jHttpClient implements HttpClient, AutoCloseable {

    private final ConnectionPoolManager pools;
    private final Duration readTimeout;
    private final LiveExchanges live = new LiveExchanges();

    SluiceLangChain4jHttpClient(ConnectionPoolManager pools, Duration readTimeout) {
        this.pools = Objects.requireNonNull(pools, "pools");
        this.readTimeout = readTimeout;
    }

    public static SluiceLangChain4jHttpClientBuilder builder() {
        return new SluiceLangChain4jHttpClientBuilder();
    }

    @Override
    public SuccessfulHttpResponse execute(HttpRequest request) throws HttpException {
        ResponseHead head = awaitHead(start(request));
        String body;
        try (InputStream in = head.body()) {
            body = head.decode(in.readAllBytes());
        } catch (IOException e) {
            throw LangChain4jErrors.map(e);
        }
        if (!head.successful()) {
            throw new HttpException(head.status(), body);
        }
        return head.toResponse(body);
    }

    @Override
    public void execute(HttpRequest request, ServerSentEventParser parser, ServerSentEventListener listener) {
        Objects.requireNonNull(parser, "parser");
        Objects.requireNonNull(listener, "listener");
        CompletableFuture<ResponseHead> head;
        try {
            head = start(request);
        } catch (RuntimeException e) {
            Listeners.safely(() -> listener.onError(LangChain4jErrors.map(e)));
            return;
        }
        head.whenComplete((h, failure) -> {
            if (failure != null) {
                Listeners.safely(() -> listener.onError(LangChain4jErrors.map(failure)));
                return;
            }
            try {
                SluiceLangChain4j.sseReaders().execute(() -> SseReader.read(h, parser, listener));
            } catch (RejectedExecutionException e) {
                h.close();
                Listeners.safely(() -> listener.onError(LangChain4jErrors.map(e)));
            }
        });
    }

    private CompletableFuture<ResponseHead> start(HttpRequest request) {
        io.sluice.http.HttpRequest sluiceRequest = LangChain4jRequests.toSluice(request, readTimeout);
        return PooledCalls.start(pools, sluiceRequest, live, ResponseHead::new, LangChain4jErrors::map);
    }

    private static ResponseHead awaitHead(CompletableFuture<ResponseHead> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            f.cancel(false);
            Thread.currentThread().interrupt();
            throw new dev.langchain4j.exception.LangChain4jException("interrupted while waiting for the response", e);
        } catch (ExecutionException e) {
            throw LangChain4jErrors.map(e.getCause());
        } catch (CancellationException e) {
            throw LangChain4jErrors.map(e);
        }
    }

    /** Number of this client's exchanges in flight (pending, or with a body not yet ended or closed). */
    public int inFlight() {
        return live.size();
    }

    /** Cancels this client's pending requests and closes its open bodies; the manager stays open. Idempotent. */
    @Override
    public void close() {
        live.closeAll();
    }

    @Override
    public String toString() {
        return "SluiceLangChain4jHttpClient[readTimeout=" + readTimeout + ", inFlight=" + live.size() + "]";
    }
}

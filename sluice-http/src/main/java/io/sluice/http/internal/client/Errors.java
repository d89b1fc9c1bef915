package io.sluice.http.internal.client;

import io.netty.handler.codec.http2.Http2Exception;
import io.sluice.http.ClientClosedException;
import io.sluice.http.ConnectionLostException;
import io.sluice.http.ProtocolException;
import io.sluice.http.RequestTimeoutException;
import io.sluice.http.SluiceHttpException;
import io.sluice.http.TooManyStreamsException;
import io.sluice.http.spi.PoolFailures;
import io.sluice.http.internal.transport.ConnectionClosedException;
import io.sluice.http.internal.transport.StreamResetException;
import io.sluice.http.internal.transport.UnprocessedRequestException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;

/**
 * Maps pool and transport failures onto the public {@link SluiceHttpException} hierarchy.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
public final class Errors {

    private Errors() {
    }

    /** Strips the wrappers futures add. */
    public static Throwable unwrap(Throwable t) {
        return PoolFailures.unwrap(t);
    }

    /** The public exception for any failure of a request on {@code route}. */
    public static SluiceHttpException map(String route, Throwable failure, Duration acquireTimeout) {
        SluiceHttpException pool = PoolFailures.mapOrNull(route, failure, acquireTimeout);
        if (pool != null) {
            return pool;
        }
        Throwable t = unwrap(failure);
        if (t instanceof UnprocessedRequestException u && u.reason() == UnprocessedRequestException.Reason.NOT_SENT) {
            return new ConnectionLostException(route, "connections kept closing before the request could be sent: "
                    + u.getMessage() + " (the request was not sent)", false, u);
        }
        if (t instanceof UnprocessedRequestException u) {
            return u.reason() == UnprocessedRequestException.Reason.GOAWAY
                    ? new ConnectionLostException(route, "server sent GOAWAY and replays were used up: " + u.getMessage()
                    + " (the request was not processed)", false, u)
                    : new TooManyStreamsException(route, "server refused the stream and replays were used up: "
                    + u.getMessage(), u);
        }
        if (t instanceof ConnectionClosedException c) {
            boolean possiblyProcessed = c.requestWritten() || !c.beforeResponse();
            return new ConnectionLostException(route, t.getMessage() + (possiblyProcessed
                    ? " (the request may have been processed)" : " (the request was not fully sent)"),
                    possiblyProcessed, t);
        }
        if (t instanceof StreamResetException) {
            // The server had the stream and chose to reset it: it may have acted on the request.
            return new ConnectionLostException(route, t.getMessage() + " (the request may have been processed)", true, t);
        }
        if (t instanceof Http2Exception) {
            return new ProtocolException(route, "HTTP/2 protocol error: " + t.getMessage(), t);
        }
        if (t instanceof CancellationException) {
            return new ClientClosedException(route, "the request was cancelled");
        }
        return new ConnectionLostException(route, String.valueOf(t.getMessage()), t);
    }

    /** Waits for {@code f}; failures are rethrown as {@link SluiceHttpException} (interrupts as ClientClosedException). */
    public static <T> T join(java.util.concurrent.CompletableFuture<T> f, String route) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.cancel(false);
            throw new ClientClosedException(route, "interrupted while waiting");
        } catch (ExecutionException | CancellationException e) {
            throw map(route, e, null);
        }
    }
}

package io.sluice.http.internal.transport;

import io.netty.buffer.ByteBuf;
import io.sluice.http.Headers;

/**
 * Receives one exchange's response from a connection.
 *
 * <p><b>Threading:</b> every callback runs on the connection's event loop, in order:
 * at most one {@link #onHeaders}, then any number of {@link #onData}, then exactly one
 * terminal call, {@link #onComplete} or {@link #onFailure} (a failure may come at any
 * point, also before the headers). Callbacks must not block.
 *
 * <p><b>Ownership:</b> {@link #onData} hands over one reference to the buffer; the
 * listener must release it exactly once, and report the bytes through
 * {@link Exchange#bytesConsumed} when the caller is done so HTTP/2 flow control credits
 * the window.
 *
 * <p><b>Thread-safety:</b> every callback is made on the connection's event loop, one at a time; implementations must not block.
 */
public interface ExchangeListener {

    /** The request's last byte (its last frame) reached the socket. May come after the head, even after the end. */
    default void onRequestWritten() {
    }

    /** The final (non-1xx) response head. */
    void onHeaders(int status, Headers headers);

    /** A piece of the response body; ownership passes to the listener. */
    void onData(ByteBuf data);

    /** The response ended normally; the connection (or stream slot) is free again. */
    void onComplete();

    /**
     * The exchange failed; the connection may or may not be usable (ask
     * {@link HttpConnection#isBroken()}). {@link UnprocessedRequestException} means the
     * server never processed the request, so it may be replayed even when not idempotent.
     */
    void onFailure(Throwable cause);
}

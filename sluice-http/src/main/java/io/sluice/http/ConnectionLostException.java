package io.sluice.http;

/**
 * The connection failed mid-exchange (peer closed, TCP reset, stream reset) after the
 * transport's own replays were used up or were not safe.
 *
 * <p>{@link #possiblyProcessed()} tells whether the server may have acted on the request: true once the
 * request was fully written (or a response had begun), false only when the failure proves it was not
 * (the request never left whole, or the server refused it). The transport never replays a request that may have
 * been processed unless it is idempotent, because an AI provider bills what it processed; the caller, who knows
 * whether a duplicate matters, decides.
 *
 * <p><b>Thread-safety:</b> immutable.
 */
public final class ConnectionLostException extends SluiceHttpException {

    private final boolean possiblyProcessed;

    /** A lost connection about which nothing is known: the request may have been processed. */
    public ConnectionLostException(String route, String message, Throwable cause) {
        this(route, message, true, cause);
    }

    public ConnectionLostException(String route, String message, boolean possiblyProcessed, Throwable cause) {
        super(route, message, cause);
        this.possiblyProcessed = possiblyProcessed;
    }

    /** Whether the server may have processed the request (it was fully written, or a response had begun). */
    public boolean possiblyProcessed() {
        return possiblyProcessed;
    }

    @Override
    public boolean retryable() {
        return true;
    }
}

package io.sluice.http.internal.transport;

import java.io.IOException;

/**
 * The connection closed or was reset during an exchange. {@link #beforeResponse()} tells
 * whether any response byte had arrived: a request that failed on a reused connection
 * before that is replayed once (the stale-connection case).
 *
 * <p><b>Thread-safety:</b> immutable.
 */
public final class ConnectionClosedException extends IOException {

    private final boolean beforeResponse;
    private final boolean requestWritten;

    public ConnectionClosedException(String message, boolean beforeResponse, Throwable cause) {
        this(message, beforeResponse, true, cause);
    }

    public ConnectionClosedException(String message, boolean beforeResponse, boolean requestWritten, Throwable cause) {
        super(message, cause);
        this.beforeResponse = beforeResponse;
        this.requestWritten = requestWritten;
    }

    /** Whether every byte of the request had been written to the socket (true when unknown: the safe side). */
    public boolean requestWritten() {
        return requestWritten;
    }

    /** Whether no response byte had arrived for this exchange when the connection was lost. */
    public boolean beforeResponse() {
        return beforeResponse;
    }
}

package io.sluice.http.internal.transport;

import java.io.IOException;

/**
 * The server did not process the request: its stream was above a GOAWAY's last-stream-id,
 * refused with REFUSED_STREAM, never created because the connection's stream limit was
 * reached, or never written. Replaying it is safe for every method.
 *
 * <p><b>Thread-safety:</b> immutable.
 */
public final class UnprocessedRequestException extends IOException {

    /** Why the stream was not processed, for the log and the final error when replays ran out. */
    public enum Reason { GOAWAY, REFUSED_STREAM, STREAM_LIMIT, NOT_SENT }

    private final Reason reason;

    public UnprocessedRequestException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}

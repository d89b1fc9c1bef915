package io.sluice.http.internal.transport;

import java.io.IOException;

/**
 * The peer reset an HTTP/2 stream with an error code other than REFUSED_STREAM.
 *
 * <p><b>Thread-safety:</b> immutable.
 */
public final class StreamResetException extends IOException {

    private final long errorCode;

    public StreamResetException(long errorCode, String message) {
        super(message);
        this.errorCode = errorCode;
    }

    /** The RST_STREAM error code (RFC 9113 §7). */
    public long errorCode() {
        return errorCode;
    }
}

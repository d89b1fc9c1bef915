package io.sluice.http;

/**
 * The request itself is wrong, so sending it again cannot help: rejected before anything was sent (CR/LF in a
 * header, an invalid method or URI), or a streamed body whose publisher produced more or fewer bytes than the
 * length given to {@code HttpRequest.Builder.body(publisher, length)}. In that last case part of the request
 * may be on the wire: on HTTP/1.1 the connection is closed (no byte past the declared length is sent), on
 * HTTP/2 the stream is reset. Immutable.
 */
public final class InvalidRequestException extends SluiceHttpException {
    public InvalidRequestException(String message) {
        super(null, message, null);
    }

    /** A request found invalid while it was being sent on {@code route} ({@code scheme://host:port}). */
    public InvalidRequestException(String route, String message) {
        super(route, message, null);
    }

    /** @param cause what made the request invalid (e.g. what a request interceptor threw) */
    public InvalidRequestException(String route, String message, Throwable cause) {
        super(route, message, cause);
    }
}

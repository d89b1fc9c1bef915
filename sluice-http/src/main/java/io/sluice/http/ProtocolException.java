package io.sluice.http;

/** The peer broke the protocol: a malformed response, invalid HTTP/2 frames, broken chunked encoding. Immutable. */
public final class ProtocolException extends SluiceHttpException {
    public ProtocolException(String route, String message, Throwable cause) {
        super(route, message, cause);
    }
}

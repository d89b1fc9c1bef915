package io.sluice.http;

/** The request was rejected before anything was sent: CR/LF in a header, an invalid method or URI. Immutable. */
public final class InvalidRequestException extends SluiceHttpException {
    public InvalidRequestException(String message) {
        super(null, message, null);
    }
}

package io.sluice.http;

/** The peer refused a new stream because its concurrent-stream limit was reached and replays were used up. Immutable. */
public final class TooManyStreamsException extends SluiceHttpException {
    public TooManyStreamsException(String route, String message, Throwable cause) {
        super(route, message, cause);
    }

    @Override
    public boolean retryable() {
        return true;
    }
}

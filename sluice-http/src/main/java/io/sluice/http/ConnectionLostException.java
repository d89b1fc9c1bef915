package io.sluice.http;

/**
 * The connection failed mid-exchange (peer closed, TCP reset, stream reset) after the
 * transport's own replays were used up or were not safe (a body byte had reached the caller). Immutable.
 */
public final class ConnectionLostException extends SluiceHttpException {
    public ConnectionLostException(String route, String message, Throwable cause) {
        super(route, message, cause);
    }

    @Override
    public boolean retryable() {
        return true;
    }
}

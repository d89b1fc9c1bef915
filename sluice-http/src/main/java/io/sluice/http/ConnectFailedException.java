package io.sluice.http;

/** The TCP connection could not be opened (refused, unreachable, DNS), after the pool's connect retries. Immutable. */
public final class ConnectFailedException extends SluiceHttpException {
    public ConnectFailedException(String route, String message, Throwable cause) {
        super(route, message, cause);
    }

    @Override
    public boolean retryable() {
        return true;
    }
}

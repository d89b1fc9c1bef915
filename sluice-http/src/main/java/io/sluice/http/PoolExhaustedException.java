package io.sluice.http;

/** The route's pool refused the request at once: too many requests were already waiting for a slot. Immutable. */
public final class PoolExhaustedException extends SluiceHttpException {
    public PoolExhaustedException(String route, String message, Throwable cause) {
        super(route, message, cause);
    }

    @Override
    public boolean retryable() {
        return true;
    }
}

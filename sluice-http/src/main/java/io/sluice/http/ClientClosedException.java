package io.sluice.http;

/** The client (or the route's pool) was closed before or during the request. Immutable. */
public final class ClientClosedException extends SluiceHttpException {
    public ClientClosedException(String route, String message) {
        super(route, message, null);
    }
}

package io.sluice.http;

/** The client (or the route's pool) was closed before or during the request. Immutable. */
public final class ClientClosedException extends SluiceHttpException {
    public ClientClosedException(String route, String message) {
        super(route, message, null);
    }

    /** @param cause what the close cut short (an executor's refusal, a channel closed under the request) */
    public ClientClosedException(String route, String message, Throwable cause) {
        super(route, message, cause);
    }
}

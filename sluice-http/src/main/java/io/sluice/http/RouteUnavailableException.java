package io.sluice.http;

/** Every candidate route or region is ejected or cooling down; the message says when the first frees. Immutable. */
public final class RouteUnavailableException extends SluiceHttpException {
    public RouteUnavailableException(String route, String message) {
        super(route, message, null);
    }
}

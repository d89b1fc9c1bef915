package io.sluice.http;

/**
 * Every failure the HTTP client reports. Sealed so callers can handle each case; each
 * message names the route (scheme://host:port) and the limit or phase involved, never a
 * header value or a secret.
 *
 * <p><b>Thread-safety:</b> immutable once constructed.
 */
public abstract sealed class SluiceHttpException extends RuntimeException implements io.sluice.pool.RetryClassified
        permits ConnectFailedException, TlsFailedException, RequestTimeoutException, ProtocolException,
        LimitExceededException, TooManyStreamsException, PoolExhaustedException, ClientClosedException,
        ConnectionLostException, InvalidRequestException, RouteUnavailableException, ProxyFailedException,
        RateLimitedException {

    private final String route;

    protected SluiceHttpException(String route, String message, Throwable cause) {
        super(route == null ? message : route + ": " + message, cause);
        this.route = route;
    }

    /** The route, as {@code scheme://host:port}, or null when the failure precedes routing. */
    public String route() {
        return route;
    }

    /**
     * Whether the request may be sent again safely by a caller that wants to (the transport
     * already did what it could). A connect that failed with a non-retryable error (an
     * untrusted certificate, a refused WebSocket upgrade) is not retried by the pool either.
     */
    @Override
    public boolean retryable() {
        return false;
    }
}

package io.sluice.http;

/**
 * Rewrites a request before it is sent: an auth header from a token that refreshes, a tracing
 * header, a tenant tag. Registered on the client builder either per call
 * ({@link ConnectionPoolManager.Builder#interceptor}: once, on the caller's thread, before the
 * first attempt) or per attempt ({@link ConnectionPoolManager.Builder#attemptInterceptor}: before
 * every attempt, replays and status retries included, so a token refreshed in between is used).
 *
 * <p>An interceptor returns the request to send: the same one, or a changed copy
 * ({@code request.toBuilder()…build()}); it must keep the request's route (scheme, host, port),
 * which chose the connection pool. What it throws fails the call with
 * {@link InvalidRequestException}, its cause attached.
 *
 * <p><b>Thread-safety:</b> implementations must be thread-safe. A per-attempt interceptor runs on
 * the thread that hands the attempt its connection, which may be an event loop: it must be quick
 * and must not block (read a cached token; refresh it elsewhere).
 */
@FunctionalInterface
public interface RequestInterceptor {

    /** The request to send in place of {@code request}. */
    HttpRequest intercept(HttpRequest request);

    /** Applies {@code interceptors} in order; {@link InvalidRequestException} when one throws or changes the route. */
    static HttpRequest applyAll(java.util.List<RequestInterceptor> interceptors, HttpRequest request) {
        HttpRequest r = request;
        for (RequestInterceptor i : interceptors) {
            HttpRequest next;
            try {
                next = i.intercept(r);
            } catch (RuntimeException e) {
                throw new InvalidRequestException(request.route().toString(), "a request interceptor failed: " + e, e);
            }
            if (next == null || !next.route().equals(request.route())) {
                throw new InvalidRequestException(request.route().toString(), "a request interceptor "
                        + (next == null ? "returned null" : "changed the route to " + next.route())
                        + "; the route chose the connection pool and must stay");
            }
            r = next;
        }
        return r;
    }
}

package io.sluice.http.retry;

/**
 * HTTP method properties the retry rules depend on.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
public final class Methods {

    private Methods() {
    }

    /**
     * Whether the method is idempotent per RFC 9110 §9.2.2 (GET, HEAD, OPTIONS, TRACE, PUT, DELETE): sending it twice
     * has the same intended effect as once, so a request whose outcome is unknown may be sent again. Method names
     * are case-sensitive, so {@code "get"} is an (unknown, non-idempotent) extension method.
     */
    public static boolean isIdempotent(String method) {
        if (method == null) {
            return false;
        }
        switch (method) {
            case "GET":
            case "HEAD":
            case "OPTIONS":
            case "TRACE":
            case "PUT":
            case "DELETE":
                return true;
            default:
                return false;
        }
    }
}

package io.sluice.tracing;

import io.sluice.http.HttpRequest;
import io.sluice.http.Protocol;
import io.sluice.http.Route;
import io.sluice.http.SluiceHttpException;
import java.util.Locale;
import java.util.Set;

/**
 * The values of OpenTelemetry's HTTP client semantic conventions, shared by both tracers: the method
 * as the conventions want it (known methods upper case, anything else {@code _OTHER}), server address
 * and port from the route, the full URL with secrets redacted, the protocol version, and
 * {@code error.type} (the status code for a 4xx/5xx answer, else the exception's class name).
 *
 * <p><b>Thread-safety:</b> stateless.
 */
public final class HttpAttributes {

    private static final Set<String> KNOWN_METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT",
            "OPTIONS", "TRACE", "PATCH", "QUERY");

    private HttpAttributes() {
    }

    /** {@code http.request.method}: a known method, or {@code _OTHER} (bounded cardinality). */
    public static String method(HttpRequest request) {
        String m = request.method().toUpperCase(Locale.ROOT);
        return KNOWN_METHODS.contains(m) ? m : "_OTHER";
    }

    /** {@code server.address}. */
    public static String serverAddress(Route route) {
        return route.host();
    }

    /** {@code server.port}. */
    public static int serverPort(Route route) {
        return route.port();
    }

    /** {@code url.full}, with user-info and key-like query parameters redacted. */
    public static String urlFull(HttpRequest request) {
        return request.redactedUri();
    }

    /** {@code network.protocol.version}: {@code 2} or {@code 1.1}. */
    public static String protocolVersion(Protocol protocol) {
        return protocol == Protocol.H2 ? "2" : "1.1";
    }

    /** {@code error.type} for an answer: the status code when it is an error (4xx, 5xx), else null. */
    public static String errorType(int status) {
        return status >= 400 ? Integer.toString(status) : null;
    }

    /** {@code error.type} for a failure: the exception's class name. */
    public static String errorType(SluiceHttpException failure) {
        return failure.getClass().getName();
    }
}

package io.sluice.spring.http;

import io.sluice.http.Headers;
import io.sluice.http.HttpRequest;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import org.springframework.http.HttpHeaders;

/** Header conversion between Spring and Sluice, shared by the blocking and the reactive adapter. Stateless. */
final class SpringHeaders {

    /**
     * Headers Sluice sets itself from the request and the protocol: copying Spring's would send them twice or
     * contradict the framing Sluice chose (HTTP/2 forbids connection-specific headers outright).
     */
    private static final Set<String> HOP_BY_HOP = Set.of("host", "connection", "keep-alive", "transfer-encoding",
            "upgrade", "proxy-connection", "te", "content-length");

    private SpringHeaders() {
    }

    /** Copies Spring's request headers onto a Sluice request builder, leaving out what Sluice frames itself. */
    static void copyTo(HttpHeaders from, HttpRequest.Builder to) {
        from.forEach((name, values) -> {
            if (!HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT))) {
                for (String v : values) {
                    to.header(name, v);
                }
            }
        });
    }

    /** A response's headers as Spring's (a fresh, writable copy the caller owns). */
    static HttpHeaders toSpring(Headers headers) {
        HttpHeaders out = new HttpHeaders();
        headers.forEach(out::add);
        return out;
    }

    /** The declared request body length, or -1 when Spring does not know it. */
    static long contentLength(HttpHeaders headers) {
        return headers.getContentLength();
    }

    /** Applies the per-request time bounds a Spring client was built with; null leaves Sluice's defaults. */
    static void applyTimeouts(HttpRequest.Builder b, Duration readTimeout, Duration connectTimeout) {
        if (readTimeout != null && !readTimeout.isZero() && !readTimeout.isNegative()) {
            // Spring's read timeout is "the longest wait for bytes": the wait for the head and each body gap.
            b.headersTimeout(readTimeout).bodyIdleTimeout(readTimeout);
        }
        if (connectTimeout != null && !connectTimeout.isZero() && !connectTimeout.isNegative()) {
            // On a pooled client the wait for a connection is what a connect timeout bounds for the caller.
            b.acquireTimeout(connectTimeout);
        }
    }
}

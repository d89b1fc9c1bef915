package io.sluice.http.retry;

import java.util.List;
import java.util.Map;

/**
 * Reads one response header by name, so the retry rules need no particular header type. Names are passed in lower
 * case; an implementation must match them case-insensitively (HTTP/1.1 names are case-insensitive, HTTP/2 names are
 * lower case on the wire). Netty's {@code HttpHeaders::get} and {@code Http2Headers::get} both fit as method
 * references.
 *
 * <p><b>Thread-safety:</b> whatever the backing headers offer; the retry classes call it only on the calling thread.
 */
@FunctionalInterface
public interface HeaderLookup {

    /** The first value of the header, or null when absent. */
    CharSequence get(String lowerCaseName);

    /** A lookup with no headers at all. */
    static HeaderLookup none() {
        return name -> null;
    }

    /** A lookup over a map whose keys may use any case (a linear scan: meant for small maps and tests). */
    static HeaderLookup of(Map<String, String> headers) {
        return name -> {
            for (Map.Entry<String, String> e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue();
                }
            }
            return null;
        };
    }

    /** A lookup over a multi-valued map (for example {@code java.net.http.HttpHeaders.map()}); first value wins. */
    static HeaderLookup ofMultiValued(Map<String, List<String>> headers) {
        return name -> {
            for (Map.Entry<String, List<String>> e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name) && !e.getValue().isEmpty()) {
                    return e.getValue().get(0);
                }
            }
            return null;
        };
    }
}

package io.sluice.testkit;

import java.util.Locale;

/**
 * Deliberately broken responses the mock can produce, selected with the {@code x-mock-malformed}
 * request header or {@link MockBehavior#malformed()}.
 *
 * <p>Immutable enum; thread-safe.
 */
public enum Malformation {
    /** A well-formed response. */
    NONE("none"),
    /** A response header block of about 100 KiB, larger than the 64 KiB most clients accept. */
    OVERSIZED_HEADERS("oversized-headers"),
    /**
     * HTTP/1.1: a chunked body whose second chunk-size line is not hexadecimal, then the connection
     * closes. HTTP/2 has no chunked coding, so there the stream gets a partial body and RST_STREAM
     * (PROTOCOL_ERROR).
     */
    BROKEN_CHUNKED("broken-chunked"),
    /** One SSE {@code data:} line longer than 1 MiB inside an otherwise valid stream. */
    OVERSIZED_SSE_LINE("oversized-sse-line");

    private final String headerValue;

    Malformation(String headerValue) {
        this.headerValue = headerValue;
    }

    /** The value used in the {@code x-mock-malformed} header. */
    public String headerValue() {
        return headerValue;
    }

    /**
     * Parses a header value.
     *
     * @throws IllegalArgumentException naming the accepted values when {@code value} is unknown
     */
    public static Malformation parse(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        for (Malformation m : values()) {
            if (m.headerValue.equals(v)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown malformation '" + value
                + "'; expected one of none, oversized-headers, broken-chunked, oversized-sse-line");
    }
}

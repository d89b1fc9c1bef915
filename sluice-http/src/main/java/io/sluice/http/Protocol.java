package io.sluice.http;

/**
 * The HTTP version an exchange ran over, named by its ALPN identifier.
 *
 * <p><b>Thread-safety:</b> immutable.
 */
public enum Protocol {
    /** HTTP/1.1: one exchange per connection at a time. */
    HTTP_1_1("http/1.1"),
    /** HTTP/2 over TLS (ALPN) or cleartext with prior knowledge: many streams per connection. */
    H2("h2");

    private final String alpnId;

    Protocol(String alpnId) {
        this.alpnId = alpnId;
    }

    /** The ALPN identifier: {@code http/1.1} or {@code h2}. */
    public String alpnId() {
        return alpnId;
    }

    @Override
    public String toString() {
        return alpnId;
    }
}

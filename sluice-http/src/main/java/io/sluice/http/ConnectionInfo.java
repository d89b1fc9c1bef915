package io.sluice.http;

/**
 * What one open connection of a client negotiated, for diagnostics: a log line, {@code sluice
 * probe}, a health page. A snapshot taken when asked; the connection may close right after.
 *
 * <p><b>Thread-safety:</b> immutable.
 *
 * @param route                    the route the connection serves
 * @param protocol                 HTTP/2 or HTTP/1.1, as ALPN (or the h2c setting) chose
 * @param tlsVersion               the TLS protocol version, e.g. {@code TLSv1.3}; null on cleartext
 * @param cipherSuite              the negotiated cipher suite; null on cleartext
 * @param peerMaxConcurrentStreams the server's SETTINGS_MAX_CONCURRENT_STREAMS on HTTP/2; -1 on HTTP/1.1
 *                                 or when the server set no limit
 * @param capacity                 requests the connection takes at once right now (our stream cap and the
 *                                 server's, whichever is lower; 1 on HTTP/1.1)
 * @param exchanges                requests it has carried so far
 * @param localAddress             our end, {@code ip:port} ({@code [ipv6]:port})
 * @param remoteAddress            the server's end, {@code ip:port} ({@code [ipv6]:port})
 */
public record ConnectionInfo(Route route, Protocol protocol, String tlsVersion, String cipherSuite,
        int peerMaxConcurrentStreams, int capacity, long exchanges, String localAddress, String remoteAddress) {

    /** Whether the connection is encrypted. */
    public boolean secure() {
        return tlsVersion != null;
    }
}

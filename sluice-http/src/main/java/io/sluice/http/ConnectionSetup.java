package io.sluice.http;

/**
 * How one connection was opened, step by step, as measured when it opened. A call gets it through
 * {@link CallListener#connectionSetUp}.
 *
 * <p><b>Thread-safety:</b> immutable.
 *
 * @param dnsNanos       resolving the host (the proxy's, through a proxy); near 0 for an IP address
 * @param connectNanos   from the first TCP attempt to the connection (and the proxy's tunnel) being up,
 *                       including the Happy Eyeballs delays of addresses that did not answer
 * @param tlsNanos       the TLS handshake alone; 0 on cleartext
 * @param tlsResumed     whether the handshake resumed an earlier session
 * @param addressesTried TCP attempts made, one per address (1 when the first address answered)
 * @param totalNanos     from the start of the look-up until the connection was ready for requests
 *                       (on HTTP/2 that includes waiting for the server's first SETTINGS)
 * @param remoteAddress  the address connected to, {@code ip:port} (the proxy's, through a proxy)
 * @param viaProxy       whether the connection goes through a proxy
 */
public record ConnectionSetup(long dnsNanos, long connectNanos, long tlsNanos, boolean tlsResumed,
                              int addressesTried, long totalNanos, String remoteAddress, boolean viaProxy) {
}

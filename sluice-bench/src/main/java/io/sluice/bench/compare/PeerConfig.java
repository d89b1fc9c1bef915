package io.sluice.bench.compare;

import java.net.URI;

/**
 * What a peer needs to know to be built.
 *
 * @param target       the URL every request goes to: the mock provider's
 *                     {@code https://localhost:PORT/v1/chat/completions}, or the {@code --url} of an
 *                     external server
 * @param certPem      an extra trust anchor (PEM): the mock's self-signed certificate or the
 *                     {@code --cacert} file; null to trust only the JDK's default CAs
 * @param concurrency  requests in flight in the throughput mode
 * @param memoryMode   true: the memory mode, where each client holds {@code connections} idle
 *                     TLS connections to one origin
 * @param connections  how many connections the memory mode opens at most
 */
record PeerConfig(URI target, String certPem, int concurrency, boolean memoryMode, int connections) {

    /** {@code scheme://host:port} of the target. */
    URI base() {
        return URI.create(target.getScheme() + "://" + target.getRawAuthority());
    }

    /** The target's path and query, {@code /} when it has none. */
    String pathAndQuery() {
        String p = target.getRawPath() == null || target.getRawPath().isEmpty() ? "/" : target.getRawPath();
        return target.getRawQuery() == null ? p : p + "?" + target.getRawQuery();
    }
}

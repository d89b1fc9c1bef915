package io.sluice.bench.compare;

import java.net.URI;

/**
 * What a peer needs to know to be built.
 *
 * @param base         {@code https://localhost:PORT} of the mock provider
 * @param certPem      the mock's self-signed certificate (PEM), the only extra trust anchor
 * @param concurrency  requests in flight in the throughput mode
 * @param memoryMode   true: the memory mode, where each client holds {@code connections} idle
 *                     TLS connections to one origin
 * @param connections  how many connections the memory mode opens at most
 */
record PeerConfig(URI base, String certPem, int concurrency, boolean memoryMode, int connections) {

    /** The workload's URI. */
    URI target() {
        return base.resolve(Workload.PATH);
    }
}

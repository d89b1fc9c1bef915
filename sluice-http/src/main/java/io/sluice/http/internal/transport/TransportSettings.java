package io.sluice.http.internal.transport;

import io.sluice.http.Http2Settings;
import io.sluice.http.Limits;
import java.time.Duration;

/**
 * What every connection of a client is configured with.
 *
 * <p><b>Thread-safety:</b> immutable.
 *
 * @param limits             response size limits
 * @param http2              HTTP/2 windows, stream cap and keepalive
 * @param h2cPriorKnowledge  speak HTTP/2 without TLS on {@code http://} routes
 * @param connectTimeout     bound on TCP connect + TLS handshake + the peer's first SETTINGS
 */
public record TransportSettings(Limits limits, Http2Settings http2, boolean h2cPriorKnowledge, Duration connectTimeout) {
}

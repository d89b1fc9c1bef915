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
 * @param acceptCompressed   send {@code accept-encoding: gzip, deflate} on requests that carry no
 *                           {@code accept-encoding} of their own (the client inflates the answer)
 */
public record TransportSettings(Limits limits, Http2Settings http2, boolean h2cPriorKnowledge, Duration connectTimeout,
                                boolean acceptCompressed) {

    /** With compressed responses accepted. */
    public TransportSettings(Limits limits, Http2Settings http2, boolean h2cPriorKnowledge, Duration connectTimeout) {
        this(limits, http2, h2cPriorKnowledge, connectTimeout, true);
    }

    /** What a request without an {@code accept-encoding} of its own is sent with. */
    public static final String ACCEPT_ENCODING = "gzip, deflate";
}

package io.sluice.websocket;

import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.sluice.http.TlsOptions;
import io.sluice.http.spi.SslContextFactory;

/**
 * Builds the TLS context of a WebSocket pool: the same policy as the HTTP transport's
 * {@link SslContextFactory} (TLS 1.3 and 1.2, modern AEAD suites, host-name verification
 * unless insecure, session cache, BoringSSL when it loads), but ALPN offers {@code http/1.1}
 * only. A WebSocket upgrade is an HTTP/1.1 request (RFC 8441's WebSocket over HTTP/2 is not
 * offered by the providers), and a server offered {@code h2} would pick it.
 *
 * <p><b>Thread-safety:</b> stateless.
 * <b>Ownership:</b> the caller owns the returned context and releases it
 * ({@code ReferenceCountUtil.release}) when its pool closes.
 */
final class WebSocketTls {

    private WebSocketTls() {
    }

    /** The context; {@link IllegalArgumentException} when a PEM cannot be read. */
    static SslContext build(TlsOptions options) {
        return SslContextFactory.build(options, ApplicationProtocolNames.HTTP_1_1);
    }
}

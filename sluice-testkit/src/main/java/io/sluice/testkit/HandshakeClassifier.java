package io.sluice.testkit;

import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.internal.tcnative.SSL;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;

/**
 * Tells a resumed TLS handshake from a full one.
 *
 * <ul>
 *   <li>BoringSSL: asks the library ({@code SSL_session_reused}) through the engine's native
 *       pointer, which is exact for session-id, ticket and TLS 1.3 PSK resumption.</li>
 *   <li>JDK engine: the JDK has no API for it, but a resumed session keeps the creation time of the
 *       session it resumes, while a full handshake creates its session after the connection was
 *       accepted. A session created before the accept is therefore a resumed one.</li>
 * </ul>
 * Stateless and thread-safe; call on the connection's event loop right after the handshake.
 */
final class HandshakeClassifier {
    boolean resumed(SSLEngine engine, long acceptedAtMillis) {
        if (engine instanceof ReferenceCountedOpenSslEngine openSsl) {
            long ssl = openSsl.sslPointer();
            return ssl != 0 && SSL.isSessionReused(ssl);
        }
        SSLSession session = engine.getSession();
        return session != null && session.getCreationTime() < acceptedAtMillis;
    }
}

package io.sluice.ws;

import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.sluice.http.TlsOptions;
import io.sluice.http.transport.SslContextFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the TLS context of a WebSocket pool: the same policy as the HTTP transport's
 * {@link SslContextFactory} (TLS 1.3 and 1.2, modern AEAD suites, host-name verification
 * unless insecure, session cache, BoringSSL when it loads), but ALPN offers {@code http/1.1}
 * only. A WebSocket upgrade is an HTTP/1.1 request (RFC 8441's WebSocket over HTTP/2 is not
 * offered by the providers), and {@link SslContextFactory#build} always offers {@code h2}
 * first, which a server would pick.
 *
 * <p><b>Thread-safety:</b> stateless apart from the once-only insecure warning.
 * <b>Ownership:</b> the caller owns the returned context and releases it
 * ({@code ReferenceCountUtil.release}) when its pool closes.
 */
final class WebSocketTls {

    private static final Logger LOG = LoggerFactory.getLogger(WebSocketTls.class);
    private static final AtomicBoolean INSECURE_WARNED = new AtomicBoolean();

    private WebSocketTls() {
    }

    /** The context; {@link IllegalArgumentException} when a PEM cannot be read. */
    static SslContext build(TlsOptions options) {
        try {
            SslContextBuilder b = SslContextBuilder.forClient()
                    .sslProvider(SslContextFactory.resolve(options.provider()))
                    .protocols("TLSv1.3", "TLSv1.2")
                    .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                    .applicationProtocolConfig(new ApplicationProtocolConfig(
                            ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_1_1))
                    .sessionCacheSize(256)
                    .sessionTimeout(3600);
            if (options.insecure()) {
                if (INSECURE_WARNED.compareAndSet(false, true)) {
                    LOG.warn("WebSocket TLS certificate and host-name verification are OFF (insecure mode); "
                            + "never use this outside tests");
                }
                b.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
            } else {
                b.endpointIdentificationAlgorithm("HTTPS");
                if (!options.trustedCertificatesPem().isEmpty()) {
                    b.trustManager(systemPlus(options));
                }
            }
            if (options.clientCertificatePem() != null) {
                b.keyManager(new ByteArrayInputStream(options.clientCertificatePem().getBytes(StandardCharsets.US_ASCII)),
                        new ByteArrayInputStream(options.clientKeyPem().getBytes(StandardCharsets.US_ASCII)));
            }
            return b.build();
        } catch (SSLException e) {
            throw new IllegalArgumentException("cannot build the WebSocket TLS context: " + e.getMessage(), e);
        }
    }

    /** The system's trusted roots plus the configured PEM certificates. */
    private static TrustManagerFactory systemPlus(TlsOptions options) {
        try {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            TrustManagerFactory system = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            system.init((KeyStore) null);
            int n = 0;
            for (TrustManager tm : system.getTrustManagers()) {
                if (tm instanceof X509TrustManager x) {
                    for (X509Certificate c : x.getAcceptedIssuers()) {
                        ks.setCertificateEntry("system-" + n++, c);
                    }
                }
            }
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            for (String pem : options.trustedCertificatesPem()) {
                for (Certificate c : cf.generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
                    ks.setCertificateEntry("extra-" + n++, c);
                }
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            return tmf;
        } catch (Exception e) {
            throw new IllegalArgumentException("cannot read the trusted certificates: " + e.getMessage(), e);
        }
    }
}

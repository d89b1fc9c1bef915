package io.sluice.http.transport;

import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.sluice.http.TlsOptions;
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
 * Builds the client's one {@link SslContext}: TLS 1.3 and 1.2 only, the modern AEAD suites
 * (AES-GCM, ChaCha20-Poly1305 with ECDHE), ALPN offering {@code h2} then {@code http/1.1},
 * host-name verification ("HTTPS" endpoint identification) unless insecure, and a session
 * cache. One context per client so that sessions are resumed across connections (the
 * handler is created with the peer's host and port, which keys the cache).
 *
 * <p><b>Thread-safety:</b> stateless apart from the once-only insecure warning.
 * <b>Ownership:</b> the caller owns the returned context (OpenSSL contexts are reference
 * counted; release it when the client closes).
 */
public final class SslContextFactory {

    private static final Logger LOG = LoggerFactory.getLogger(SslContextFactory.class);
    private static final AtomicBoolean INSECURE_WARNED = new AtomicBoolean();
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private SslContextFactory() {
    }

    /** The provider AUTO resolves to now: OpenSSL when netty-tcnative loaded. */
    public static SslProvider resolve(TlsOptions.Provider p) {
        return switch (p) {
            case AUTO -> OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
            case OPENSSL -> {
                if (!OpenSsl.isAvailable()) {
                    throw new IllegalStateException("TLS provider OPENSSL requested but netty-tcnative did not load",
                            OpenSsl.unavailabilityCause());
                }
                yield SslProvider.OPENSSL;
            }
            case JDK -> SslProvider.JDK;
        };
    }

    /** Builds the context offering {@code h2} then {@code http/1.1}; {@link IllegalArgumentException} when a PEM cannot be read. */
    public static SslContext build(TlsOptions options) {
        return build(options, ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);
    }

    /** Builds the context offering exactly these ALPN protocols, in order of preference. */
    public static SslContext build(TlsOptions options, String... alpn) {
        if (alpn.length == 0) {
            throw new IllegalArgumentException("at least one ALPN protocol is required");
        }
        SslProvider provider = resolve(options.provider());
        try {
            SslContextBuilder b = SslContextBuilder.forClient()
                    .sslProvider(provider)
                    .protocols(PROTOCOLS)
                    .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                    .applicationProtocolConfig(new ApplicationProtocolConfig(
                            ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            alpn))
                    .sessionCacheSize(1024)
                    .sessionTimeout(3600);
            if (options.insecure()) {
                if (INSECURE_WARNED.compareAndSet(false, true)) {
                    LOG.warn("TLS certificate and host-name verification are OFF (insecure mode): any server can "
                            + "impersonate the providers; never use this outside tests");
                }
                b.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
            } else {
                b.endpointIdentificationAlgorithm("HTTPS");
                if (!options.trustedCertificatesPem().isEmpty()) {
                    b.trustManager(trustStoreWithExtras(options));
                }
            }
            if (options.clientCertificatePem() != null) {
                b.keyManager(new ByteArrayInputStream(options.clientCertificatePem().getBytes(StandardCharsets.US_ASCII)),
                        new ByteArrayInputStream(options.clientKeyPem().getBytes(StandardCharsets.US_ASCII)));
            }
            return b.build();
        } catch (SSLException e) {
            throw new IllegalArgumentException("cannot build the TLS context: " + e.getMessage(), e);
        }
    }

    /** The system's trusted roots plus the configured PEM certificates, in one trust manager. */
    private static TrustManagerFactory trustStoreWithExtras(TlsOptions options) {
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

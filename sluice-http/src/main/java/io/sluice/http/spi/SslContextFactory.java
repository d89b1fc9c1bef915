package io.sluice.http.spi;

import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.ReferenceCountedOpenSslContext;
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
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionContext;
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
 * <p>Trust: the system roots plus the configured PEM certificates, in one JDK
 * {@link X509TrustManager} that is built once per distinct PEM list and shared by all contexts
 * (see {@link #trustManager(List)}).
 *
 * <p><b>Thread-safety:</b> thread-safe (the shared trust managers are thread-safe; the cache is
 * synchronized).
 * <b>Ownership:</b> the caller owns the returned context (OpenSSL contexts are reference
 * counted; release it when the client closes).
 */
public final class SslContextFactory {

    private static final Logger LOG = LoggerFactory.getLogger(SslContextFactory.class);
    private static final AtomicBoolean INSECURE_WARNED = new AtomicBoolean();
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    /** Trust managers by extra-PEM list (the empty list: the system roots alone); a few entries at most. */
    private static final Map<List<String>, X509TrustManager> TRUST_MANAGERS = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<List<String>, X509TrustManager> eldest) {
            return size() > 8;
        }
    };

    /**
     * Bytes of the native buffer each BoringSSL connection keeps, for its whole life, for TLS records it
     * produces outside a wrap (Finished, alerts, a client certificate flight). Netty's default, 2048, costs
     * 1.8 kB of native memory per idle connection more than this (measured with ./sluice bench); a
     * client's flights outside a wrap are under 100 bytes unless it sends a certificate, and a larger
     * flight is handed out in several wraps (Netty returns NEED_WRAP until the buffer is empty).
     */
    static final int NON_APPLICATION_BUFFER_BYTES = 256;

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
                    // A client resumes with a handful of routes; 1024 cached sessions cost about
                    // 130 kB of heap per 100 connections in ./sluice bench for no resumption gain.
                    .sessionCacheSize(64)
                    .sessionTimeout(3600);
            if (options.insecure()) {
                if (INSECURE_WARNED.compareAndSet(false, true)) {
                    LOG.warn("TLS certificate and host-name verification are OFF (insecure mode): any server can "
                            + "impersonate the providers; never use this outside tests");
                }
                b.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
            } else if (options.trustManagerFactory() != null) {
                b.endpointIdentificationAlgorithm("HTTPS").trustManager(options.trustManagerFactory());
            } else if (options.trustStore() != null) {
                b.endpointIdentificationAlgorithm("HTTPS").trustManager(storeTrustManager(options));
            } else {
                b.endpointIdentificationAlgorithm("HTTPS").trustManager(trustManager(extraTrustedPem(options)));
            }
            if (options.clientCertificatePem() != null) {
                b.keyManager(new ByteArrayInputStream(options.clientCertificatePem().getBytes(StandardCharsets.US_ASCII)),
                        new ByteArrayInputStream(options.clientKeyPem().getBytes(StandardCharsets.US_ASCII)));
            } else if (options.clientCertificateFile() != null) {
                b.keyManager(new ByteArrayInputStream(read(options.clientCertificateFile(), "client certificate")),
                        new ByteArrayInputStream(read(options.clientKeyFile(), "client key")));
            } else if (options.keyStore() != null) {
                TlsOptions.StoreFile ks = options.keyStore();
                char[] keyPassword = null; // a copy (StoreFile.password() clones): zeroed once the factory has it
                try {
                    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                    KeyStore store = load(ks, "key store");
                    keyPassword = ks.password();
                    kmf.init(store, keyPassword); // the factory copies what it keeps (the JDK's keep the keys, not this)
                    b.keyManager(kmf);
                } catch (java.security.GeneralSecurityException e) {
                    throw new IllegalArgumentException("cannot use the key store " + ks + ": " + e.getMessage(), e);
                } finally {
                    if (keyPassword != null) {
                        java.util.Arrays.fill(keyPassword, '\0');
                    }
                }
            } else if (options.keyManagerFactory() != null) {
                b.keyManager(options.keyManagerFactory());
            }
            SslContext context = b.build();
            if (context instanceof ReferenceCountedOpenSslContext openSsl) {
                openSsl.setBioNonApplicationBufferSize(NON_APPLICATION_BUFFER_BYTES);
            }
            return context;
        } catch (SSLException e) {
            throw new IllegalArgumentException("cannot build the TLS context: " + e.getMessage(), e);
        }
    }

    /** The extra trusted PEM certificates: the texts given, then each file's text as it reads now. */
    private static List<String> extraTrustedPem(TlsOptions options) {
        if (options.trustedCertificateFiles().isEmpty()) {
            return options.trustedCertificatesPem();
        }
        List<String> all = new java.util.ArrayList<>(options.trustedCertificatesPem());
        for (java.nio.file.Path f : options.trustedCertificateFiles()) {
            all.add(new String(read(f, "trusted certificate"), StandardCharsets.US_ASCII));
        }
        return all;
    }

    /** The trust store's certificates plus the extra PEM certificates; not cached: the file may change. */
    private static X509TrustManager storeTrustManager(TlsOptions options) {
        TlsOptions.StoreFile ts = options.trustStore();
        KeyStore store = load(ts, "trust store");
        try {
            List<String> extra = extraTrustedPem(options);
            if (!extra.isEmpty()) {
                CertificateFactory cf = CertificateFactory.getInstance("X.509");
                int n = 0;
                for (String pem : extra) {
                    for (Certificate c : cf.generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
                        store.setCertificateEntry("sluice-extra-" + n++, c);
                    }
                }
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            return x509(tmf);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot use the trust store " + ts + ": " + e.getMessage(), e);
        }
    }

    private static KeyStore load(TlsOptions.StoreFile file, String what) {
        char[] password = file.password();
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(file.path())) {
            KeyStore ks = KeyStore.getInstance(file.type());
            ks.load(in, password);
            return ks;
        } catch (java.io.IOException | java.security.GeneralSecurityException e) {
            // A wrong password surfaces as an IOException whose cause is an UnrecoverableKeyException.
            throw new IllegalArgumentException("cannot read the " + what + " " + file + ": " + e.getMessage(), e);
        } finally {
            if (password != null) {
                java.util.Arrays.fill(password, '\0');
            }
        }
    }

    private static byte[] read(java.nio.file.Path file, String what) {
        try {
            return java.nio.file.Files.readAllBytes(file);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot read the " + what + " file " + file + ": " + e, e);
        }
    }

    /**
     * Forgets the context's cached TLS sessions, so the next connection to each peer does a full
     * handshake (BoringSSL: Netty's client session cache is cleared; JDK: the sessions are invalidated).
     */
    public static void clearSessions(SslContext context) {
        SSLSessionContext sc = context.sessionContext();
        if (sc instanceof OpenSslSessionContext openSsl) {
            openSsl.setSessionCacheEnabled(false); // clears the cache
            openSsl.setSessionCacheEnabled(true);
            return;
        }
        for (Enumeration<byte[]> ids = sc.getIds(); ids.hasMoreElements(); ) {
            SSLSession session = sc.getSession(ids.nextElement());
            if (session != null) {
                session.invalidate();
            }
        }
    }

    /**
     * The trust manager for the system roots plus {@code extraPem}, built once per distinct list
     * and shared by every context. The JDK's {@code X509TrustManagerImpl} builds its PKIX
     * validator (an index of every trust anchor, about 0.2 ms warm and several ms JIT-cold) on its
     * first check; a trust manager per client put that cost inside each client's first
     * handshake. Here it is paid once, when the trust manager is built, outside any handshake.
     */
    static X509TrustManager trustManager(List<String> extraPem) {
        List<String> key = List.copyOf(extraPem);
        synchronized (TRUST_MANAGERS) {
            X509TrustManager tm = TRUST_MANAGERS.get(key);
            if (tm == null) {
                tm = buildTrustManager(key);
                TRUST_MANAGERS.put(key, tm);
            }
            return tm;
        }
    }

    private static X509TrustManager buildTrustManager(List<String> extraPem) {
        try {
            TrustManagerFactory system = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            system.init((KeyStore) null);
            X509TrustManager systemTm = x509(system);
            X509TrustManager tm;
            X509Certificate probe;
            if (extraPem.isEmpty()) {
                tm = systemTm;
                X509Certificate[] roots = systemTm.getAcceptedIssuers();
                probe = roots.length == 0 ? null : roots[0];
            } else {
                KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
                ks.load(null, null);
                int n = 0;
                for (X509Certificate c : systemTm.getAcceptedIssuers()) {
                    ks.setCertificateEntry("system-" + n++, c);
                }
                CertificateFactory cf = CertificateFactory.getInstance("X.509");
                probe = null;
                for (String pem : extraPem) {
                    for (Certificate c : cf.generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
                        ks.setCertificateEntry("extra-" + n++, c);
                        if (probe == null && c instanceof X509Certificate x) {
                            probe = x;
                        }
                    }
                }
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(ks);
                tm = x509(tmf);
            }
            if (probe != null) {
                try { // builds the server validator now: a trust anchor alone is accepted without a path search
                    tm.checkServerTrusted(new X509Certificate[]{probe}, "ECDHE_ECDSA");
                } catch (Exception ignored) {
                    // only a warm-up: the validator exists even when this anchor is rejected (expired, constraints)
                }
            }
            return tm;
        } catch (Exception e) {
            throw new IllegalArgumentException("cannot read the trusted certificates: " + e.getMessage(), e);
        }
    }

    private static X509TrustManager x509(TrustManagerFactory tmf) {
        for (TrustManager tm : tmf.getTrustManagers()) {
            if (tm instanceof X509TrustManager x) {
                return x;
            }
        }
        throw new IllegalStateException("no X509TrustManager from " + tmf.getAlgorithm());
    }
}

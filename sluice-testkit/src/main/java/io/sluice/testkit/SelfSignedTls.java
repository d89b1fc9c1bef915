package io.sluice.testkit;

import io.netty.handler.ssl.SslContext;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * The testkit's self-signed certificate (ECDSA P-256 for {@code localhost} and {@code 127.0.0.1},
 * its own CA) for servers outside this package, such as the adversary servers: a Netty server
 * context with a chosen ALPN list, a JDK server context for blocking sockets, and the PEM a
 * client trusts.
 *
 * <p>Immutable and thread-safe. Holds no native resources itself; each {@link SslContext} it
 * builds is owned by the caller, who releases it ({@code ReferenceCountUtil.release}) when done.
 */
public final class SelfSignedTls {
    private static final char[] NO_PASSWORD = new char[0];
    private final MockCertificate certificate;

    private SelfSignedTls(MockCertificate certificate) {
        this.certificate = certificate;
    }

    /** A freshly generated certificate, valid for 30 days. */
    public static SelfSignedTls generate() {
        return new SelfSignedTls(MockCertificate.generate());
    }

    /** The certificate in PEM, for a client's trust store. */
    public String certificatePem() {
        return certificate.pem();
    }

    /**
     * A Netty server context (BoringSSL when available) offering exactly {@code alpn}, in
     * preference order, e.g. {@code "h2"}. The caller owns and releases it.
     */
    public SslContext nettyServerContext(String... alpn) {
        return TlsContextFactory.create(certificate, false, alpn);
    }

    /** A JDK server context over the same key and certificate, for {@code SSLServerSocket}s. */
    public SSLContext jdkServerContext() {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("adversary", certificate.privateKey(), NO_PASSWORD,
                    new Certificate[] {certificate.certificate()});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, NO_PASSWORD);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            return ctx;
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot build a JDK server TLS context", e);
        }
    }
}

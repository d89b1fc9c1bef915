package io.sluice.http;

import java.util.List;
import java.util.Objects;

/**
 * TLS settings of a client. By default the system trust store is used, host names are
 * verified, BoringSSL is used when netty-tcnative loads and the JDK's engine otherwise.
 *
 * <p>The client key is held only to build the TLS context; {@link #toString()} never shows it.
 *
 * <p><b>Thread-safety:</b> immutable. The {@link Builder} is not thread-safe.
 *
 * @param provider               which TLS engine to use
 * @param trustedCertificatesPem extra trusted certificates, PEM text each (added to the system trust store)
 * @param clientCertificatePem   client certificate chain (PEM) for mutual TLS, or null
 * @param clientKeyPem           PKCS#8 private key (PEM) of the client certificate, or null
 * @param insecure               trust every certificate and skip host-name verification; logs a warning once
 */
public record TlsOptions(Provider provider, List<String> trustedCertificatesPem, String clientCertificatePem,
                         String clientKeyPem, boolean insecure) {

    /** The TLS engine. */
    public enum Provider {
        /** BoringSSL when available, the JDK's engine otherwise. */
        AUTO,
        /** BoringSSL through netty-tcnative; fails at build time when it does not load. */
        OPENSSL,
        /** The JDK's SSLEngine. */
        JDK
    }

    public TlsOptions {
        Objects.requireNonNull(provider, "provider");
        trustedCertificatesPem = List.copyOf(trustedCertificatesPem);
        if ((clientCertificatePem == null) != (clientKeyPem == null)) {
            throw new IllegalArgumentException("a client certificate needs both the certificate and the key");
        }
    }

    /** System trust store, host-name verification on, provider AUTO. */
    public static TlsOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String toString() {
        return "TlsOptions[provider=" + provider + ", extraTrusted=" + trustedCertificatesPem.size()
                + ", clientCertificate=" + (clientCertificatePem != null) + ", insecure=" + insecure + "]";
    }

    /** Builds {@link TlsOptions}. Not thread-safe. */
    public static final class Builder {
        private Provider provider = Provider.AUTO;
        private final java.util.ArrayList<String> trusted = new java.util.ArrayList<>();
        private String clientCert;
        private String clientKey;
        private boolean insecure;

        private Builder() {
        }

        public Builder provider(Provider p) {
            this.provider = p;
            return this;
        }

        /** Trusts the certificates in {@code pem} in addition to the system trust store. */
        public Builder trustCertificatePem(String pem) {
            trusted.add(Objects.requireNonNull(pem, "pem"));
            return this;
        }

        /** Presents this certificate chain and PKCS#8 key to servers that ask for one. */
        public Builder clientCertificate(String certificateChainPem, String privateKeyPem) {
            this.clientCert = Objects.requireNonNull(certificateChainPem, "certificateChainPem");
            this.clientKey = Objects.requireNonNull(privateKeyPem, "privateKeyPem");
            return this;
        }

        /** Trusts every certificate and skips host-name verification. For tests only; logs a warning once. */
        public Builder insecure(boolean on) {
            this.insecure = on;
            return this;
        }

        public TlsOptions build() {
            return new TlsOptions(provider, trusted, clientCert, clientKey, insecure);
        }
    }
}

package io.sluice.http;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS settings of a client. By default the system trust store is used, host names are
 * verified, BoringSSL is used when netty-tcnative loads and the JDK's engine otherwise.
 *
 * <p><b>Trust</b> comes from one of: the system trust store (the default); a trust store file
 * (PKCS12 or JKS, {@link Builder#trustStore}), which replaces the system roots as
 * {@code javax.net.ssl.trustStore} does; or a {@link TrustManagerFactory} of your own. PEM
 * certificates ({@link Builder#trustCertificatePem}, {@link Builder#trustCertificatePemFile})
 * are added to the system roots or to the trust store.
 *
 * <p><b>The client certificate</b> for mutual TLS comes from one of: PEM text or PEM files
 * (chain and PKCS#8 key), a key store file (PKCS12 or JKS), or a {@link KeyManagerFactory}.
 *
 * <p><b>Files are read when the client builds its TLS context, and again at each
 * {@link ConnectionPoolManager#reloadTls()}</b> (or every {@code tlsReloadInterval}): rotated
 * certificates and keys reach new connections without a restart; open connections keep the
 * ones they were made with.
 *
 * <p>Passwords and keys are held only to build the TLS context; {@link #toString()} never shows them.
 *
 * <p><b>Thread-safety:</b> immutable (the password arrays are copies the record owns; factories
 * given by the caller are shared, as given). The {@link Builder} is not thread-safe.
 *
 * @param provider               which TLS engine to use
 * @param trustedCertificatesPem extra trusted certificates, PEM text each
 * @param clientCertificatePem   client certificate chain (PEM) for mutual TLS, or null
 * @param clientKeyPem           PKCS#8 private key (PEM) of the client certificate, or null
 * @param insecure               trust every certificate and skip host-name verification; logs a warning once
 * @param trustedCertificateFiles extra trusted certificates, PEM files, read at each build
 * @param trustStore             a trust store file replacing the system roots, or null
 * @param trustManagerFactory    trust decided by this factory alone, or null
 * @param clientCertificateFile  client certificate chain as a PEM file, or null
 * @param clientKeyFile          its PKCS#8 private key as a PEM file, or null
 * @param keyStore               a key store file holding the client's key and chain, or null
 * @param keyManagerFactory      the client's key material from this factory, or null
 */
public record TlsOptions(Provider provider, List<String> trustedCertificatesPem, String clientCertificatePem,
                         String clientKeyPem, boolean insecure, List<Path> trustedCertificateFiles,
                         StoreFile trustStore, TrustManagerFactory trustManagerFactory, Path clientCertificateFile,
                         Path clientKeyFile, StoreFile keyStore, KeyManagerFactory keyManagerFactory) {

    /** The TLS engine. */
    public enum Provider {
        /** BoringSSL when available, the JDK's engine otherwise. */
        AUTO,
        /** BoringSSL through netty-tcnative; fails at build time when it does not load. */
        OPENSSL,
        /** The JDK's SSLEngine. */
        JDK
    }

    /**
     * A key store or trust store file.
     *
     * @param path     the file; read at each build of the TLS context
     * @param type     {@code PKCS12} or {@code JKS} (or any {@link java.security.KeyStore} type)
     * @param password the store's password (also the key's, for a key store), or null for a
     *                 trust store without one; copied
     */
    public record StoreFile(Path path, String type, char[] password) {
        public StoreFile {
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(type, "type");
            password = password == null ? null : password.clone();
        }

        /** A copy of the password, or null. */
        @Override
        public char[] password() {
            return password == null ? null : password.clone();
        }

        /** The path and type; never the password. */
        @Override
        public String toString() {
            return type + " " + path;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof StoreFile s && s.path.equals(path) && s.type.equals(type)
                    && java.util.Arrays.equals(s.password, password);
        }

        @Override
        public int hashCode() {
            return Objects.hash(path, type);
        }
    }

    public TlsOptions {
        Objects.requireNonNull(provider, "provider");
        trustedCertificatesPem = List.copyOf(trustedCertificatesPem);
        trustedCertificateFiles = List.copyOf(trustedCertificateFiles);
        if ((clientCertificatePem == null) != (clientKeyPem == null)) {
            throw new IllegalArgumentException("a client certificate needs both the certificate and the key");
        }
        if ((clientCertificateFile == null) != (clientKeyFile == null)) {
            throw new IllegalArgumentException("a client certificate file needs both the certificate and the key file");
        }
        int keySources = (clientCertificatePem != null ? 1 : 0) + (clientCertificateFile != null ? 1 : 0)
                + (keyStore != null ? 1 : 0) + (keyManagerFactory != null ? 1 : 0);
        if (keySources > 1) {
            throw new IllegalArgumentException("the client certificate comes from one source: PEM text, PEM files, "
                    + "a key store or a KeyManagerFactory; " + keySources + " were given");
        }
        if (trustManagerFactory != null && (trustStore != null || !trustedCertificatesPem.isEmpty()
                || !trustedCertificateFiles.isEmpty())) {
            throw new IllegalArgumentException("a TrustManagerFactory decides trust alone: no trust store or "
                    + "extra certificates with it");
        }
    }

    /** System trust store, host-name verification on, provider AUTO. */
    public static TlsOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Whether anything is read from files (what {@link ConnectionPoolManager#reloadTls()} re-reads). */
    public boolean readsFiles() {
        return !trustedCertificateFiles.isEmpty() || trustStore != null || clientCertificateFile != null || keyStore != null;
    }

    /** Whether a client certificate is configured, from any source. */
    public boolean hasClientCertificate() {
        return clientCertificatePem != null || clientCertificateFile != null || keyStore != null || keyManagerFactory != null;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("TlsOptions[provider=").append(provider)
                .append(", extraTrusted=").append(trustedCertificatesPem.size() + trustedCertificateFiles.size());
        if (trustStore != null) {
            b.append(", trustStore=").append(trustStore);
        }
        if (trustManagerFactory != null) {
            b.append(", trustManagerFactory=").append(trustManagerFactory.getAlgorithm());
        }
        b.append(", clientCertificate=").append(hasClientCertificate());
        if (keyStore != null) {
            b.append(" (").append(keyStore).append(')');
        } else if (clientCertificateFile != null) {
            b.append(" (").append(clientCertificateFile).append(')');
        }
        return b.append(", insecure=").append(insecure).append(']').toString();
    }

    /** Builds {@link TlsOptions}. Not thread-safe. */
    public static final class Builder {
        private Provider provider = Provider.AUTO;
        private final java.util.ArrayList<String> trusted = new java.util.ArrayList<>();
        private final java.util.ArrayList<Path> trustedFiles = new java.util.ArrayList<>();
        private String clientCert;
        private String clientKey;
        private boolean insecure;
        private StoreFile trustStore;
        private TrustManagerFactory trustManagerFactory;
        private Path clientCertFile;
        private Path clientKeyFile;
        private StoreFile keyStore;
        private KeyManagerFactory keyManagerFactory;

        private Builder() {
        }

        public Builder provider(Provider p) {
            this.provider = p;
            return this;
        }

        /** Trusts the certificates in {@code pem} in addition to the system trust store (or the trust store file). */
        public Builder trustCertificatePem(String pem) {
            trusted.add(Objects.requireNonNull(pem, "pem"));
            return this;
        }

        /** Trusts the certificates in this PEM file too; re-read at each reload. */
        public Builder trustCertificatePemFile(Path pemFile) {
            trustedFiles.add(Objects.requireNonNull(pemFile, "pemFile"));
            return this;
        }

        /**
         * Trusts the certificates of this trust store instead of the system roots.
         *
         * @param type     {@code PKCS12} or {@code JKS}
         * @param password the store's password, or null when it has none (copied)
         */
        public Builder trustStore(Path path, String type, char[] password) {
            this.trustStore = new StoreFile(path, type, password);
            return this;
        }

        /** Trust is this factory's alone (initialised by you); no system roots, no extra certificates. */
        public Builder trustManagerFactory(TrustManagerFactory factory) {
            this.trustManagerFactory = Objects.requireNonNull(factory, "factory");
            return this;
        }

        /** Presents this certificate chain and PKCS#8 key to servers that ask for one. */
        public Builder clientCertificate(String certificateChainPem, String privateKeyPem) {
            this.clientCert = Objects.requireNonNull(certificateChainPem, "certificateChainPem");
            this.clientKey = Objects.requireNonNull(privateKeyPem, "privateKeyPem");
            return this;
        }

        /** Presents the chain and PKCS#8 key in these PEM files; re-read at each reload. */
        public Builder clientCertificateFiles(Path certificateChainPem, Path privateKeyPem) {
            this.clientCertFile = Objects.requireNonNull(certificateChainPem, "certificateChainPem");
            this.clientKeyFile = Objects.requireNonNull(privateKeyPem, "privateKeyPem");
            return this;
        }

        /**
         * Presents the key and chain held in this key store; re-read at each reload.
         *
         * @param type     {@code PKCS12} or {@code JKS}
         * @param password the store's password, also the key's (copied)
         */
        public Builder keyStore(Path path, String type, char[] password) {
            this.keyStore = new StoreFile(path, type, Objects.requireNonNull(password, "password"));
            return this;
        }

        /** Presents what this factory's key managers choose (initialised by you; asked again at each reload). */
        public Builder keyManagerFactory(KeyManagerFactory factory) {
            this.keyManagerFactory = Objects.requireNonNull(factory, "factory");
            return this;
        }

        /** Trusts every certificate and skips host-name verification. For tests only; logs a warning once. */
        public Builder insecure(boolean on) {
            this.insecure = on;
            return this;
        }

        /** Validates and builds; {@link IllegalArgumentException} when sources conflict. Files are read later. */
        public TlsOptions build() {
            return new TlsOptions(provider, trusted, clientCert, clientKey, insecure, trustedFiles, trustStore,
                    trustManagerFactory, clientCertFile, clientKeyFile, keyStore, keyManagerFactory);
        }
    }
}

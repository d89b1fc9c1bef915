package io.sluice.http;

import static io.sluice.http.HttpTestSupport.testPool;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.ReferenceCountedOpenSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.sluice.http.faults.FaultSupport;
import io.sluice.http.spi.SslContextFactory;
import io.sluice.testkit.junit.NettyLeakCheck;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Mutual TLS end to end over loopback, with both client TLS engines: a real Netty server that
 * requires a client certificate ({@link ClientAuth#REQUIRE}) and trusts only the root CA of the
 * client's chain answers with the subject of the certificate it verified.
 *
 * <p>The client chain is an RSA-2048 leaf plus its ECDSA intermediate (well over a kilobyte of DER),
 * so on BoringSSL the client's certificate flight is several times larger than the 256-byte
 * non-application BIO buffer {@link SslContextFactory} configures: the handshake has to hand the
 * flight out in several pieces. Each case runs on TLS 1.3 (certificate sent after the server's
 * Finished) and TLS 1.2 (certificate in the client's second flight), over HTTP/2 and HTTP/1.1
 * (the server's ALPN picks which).
 */
@ExtendWith(NettyLeakCheck.class)
class MutualTlsTest {

    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final String CLIENT_SUBJECT = "CN=sluice-mtls-client,OU=mutual tls,O=Sluice tests";

    /** Root CA: the only anchor the server trusts for client certificates. */
    private static Issued root;
    /** Intermediate CA, issued by the root; it issues the client leaf and travels in the client's chain. */
    private static Issued intermediate;
    /** Client leaf (RSA 2048), issued by the intermediate. */
    private static Issued clientLeaf;
    /** Server certificate for 127.0.0.1, self-signed; the client trusts it as an extra PEM. */
    private static Issued serverCert;
    private static String clientChainPem;
    private static String clientKeyPem;
    private static EventLoopGroup serverGroup;

    private final ChannelGroup serverChannels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final List<AutoCloseable> toClose = new ArrayList<>();

    enum Proto {
        H2(ApplicationProtocolNames.HTTP_2, Protocol.H2),
        H1(ApplicationProtocolNames.HTTP_1_1, Protocol.HTTP_1_1);

        final String alpn;
        final Protocol expected;

        Proto(String alpn, Protocol expected) {
            this.alpn = alpn;
            this.expected = expected;
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (TlsOptions.Provider provider : new TlsOptions.Provider[]{TlsOptions.Provider.OPENSSL, TlsOptions.Provider.JDK}) {
            for (Proto proto : Proto.values()) {
                for (String tls : new String[]{"TLSv1.3", "TLSv1.2"}) {
                    out.add(Arguments.of(provider, proto, tls));
                }
            }
        }
        return out.stream();
    }

    @BeforeAll
    static void certificatesAndServerLoop() throws Exception {
        root = Issued.ca("CN=Sluice mTLS test root CA", null, 1);
        intermediate = Issued.ca("CN=Sluice mTLS test intermediate CA", root, 0);
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048, new SecureRandom());
        clientLeaf = Issued.leaf(CLIENT_SUBJECT, rsa.generateKeyPair(), intermediate, KeyPurposeId.id_kp_clientAuth, false);
        serverCert = Issued.leaf("CN=127.0.0.1,O=Sluice mTLS test server", ecKeyPair(), null,
                KeyPurposeId.id_kp_serverAuth, true);
        clientChainPem = pem("CERTIFICATE", clientLeaf.cert.getEncoded()) + pem("CERTIFICATE", intermediate.cert.getEncoded());
        clientKeyPem = pem("PRIVATE KEY", clientLeaf.key.getEncoded()); // JCA encodes private keys as PKCS#8
        serverGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterAll
    static void stopServerLoop() {
        if (serverGroup != null) {
            serverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @AfterEach
    void closeEverything() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
        toClose.clear();
        serverChannels.close().syncUninterruptibly();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void aClientCertificateChainLargerThanTheNativeBufferIsSentAndVerified(TlsOptions.Provider provider, Proto proto,
                                                                           String tlsVersion) throws Exception {
        assumeEngine(provider);
        TlsOptions tls = TlsOptions.builder().provider(provider)
                .trustCertificatePem(pem("CERTIFICATE", serverCert.cert.getEncoded()))
                .clientCertificate(clientChainPem, clientKeyPem)
                .build();
        assertTheFlightOutgrowsTheNativeBuffer(tls);
        MtlsServer server = startServer(proto, tlsVersion);
        ConnectionPoolManager client = client(tls);
        assertThat(client.tlsProvider()).isEqualTo(provider.name());

        HttpResponse response = answer(client.send(HttpRequest.newBuilder(server.uri("/whoami")).build()));

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.protocol()).isEqualTo(proto.expected);
        assertThat(response.bodyAsString())
                .contains("subject=" + clientLeaf.cert.getSubjectX500Principal().getName())
                .contains("issuer=" + intermediate.cert.getSubjectX500Principal().getName())
                .contains("chain=2")
                .contains("protocol=" + tlsVersion);
        assertThat(server.handshakesOk.get()).isEqualTo(1);
        assertThat(server.handshakesFailed.get()).isZero();
        // a second request reuses the pooled, mutually authenticated connection
        HttpResponse again = answer(client.send(HttpRequest.newBuilder(server.uri("/whoami")).build()));
        assertThat(again.bodyAsString()).contains("subject=" + clientLeaf.cert.getSubjectX500Principal().getName());
        assertThat(server.handshakesOk.get()).isEqualTo(1);
        FaultSupport.assertAccountingExact(client);
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void withoutAClientCertificateTheRequestFailsTypedAndThePoolIsClean(TlsOptions.Provider provider, Proto proto,
                                                                         String tlsVersion) throws Exception {
        assumeEngine(provider);
        TlsOptions tls = TlsOptions.builder().provider(provider)
                .trustCertificatePem(pem("CERTIFICATE", serverCert.cert.getEncoded()))
                .build();
        MtlsServer server = startServer(proto, tlsVersion);
        ConnectionPoolManager client = client(tls);

        SluiceHttpException e = failure(client.send(HttpRequest.newBuilder(server.uri("/whoami")).build()));

        // TLS 1.2: the server's alert ends the client's own handshake. TLS 1.3: the client's handshake is complete
        // before the server checks the (empty) certificate, and the alert ends the connection while the client
        // waits for SETTINGS (h2) or for its response (HTTP/1.1). Either way the caller learns why.
        assertThat(e).isInstanceOfSatisfying(TlsFailedException.class, tlsFailure -> {
            assertThat(tlsFailure.reason()).as("%s, caused by %s", tlsFailure, tlsFailure.getCause())
                    .isEqualTo(TlsFailedException.Reason.CERTIFICATE_REFUSED);
            assertThat(tlsFailure.retryable()).as("another handshake would be refused too").isFalse();
        });
        assertThat(e.route()).isEqualTo("https://127.0.0.1:" + server.port());
        assertThat(server.answered.get()).as("requests the server answered").isZero();
        await().atMost(WAIT).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(5))
                .untilAsserted(() -> assertThat(server.handshakesFailed.get()).isPositive());
        assertThat(server.handshakesOk.get()).isZero();
        assertThat(server.handshakesFailed.get()).as("not retried, although the pool allows 2 connect retries")
                .isEqualTo(1);
        FaultSupport.assertAccountingExact(client);
    }

    // ---------------------------------------------------------------- helpers

    private static void assumeEngine(TlsOptions.Provider provider) {
        // as in TlsFaultTest: netty-tcnative has failed to load intermittently in this shared environment
        Assumptions.assumeTrue(provider != TlsOptions.Provider.OPENSSL || OpenSsl.isAvailable(),
                () -> "BoringSSL did not load: " + OpenSsl.unavailabilityCause());
    }

    /** The client chain is far larger than the BoringSSL context's non-application buffer: the path under test. */
    private static void assertTheFlightOutgrowsTheNativeBuffer(TlsOptions tls) throws Exception {
        int chainBytes = clientLeaf.cert.getEncoded().length + intermediate.cert.getEncoded().length;
        assertThat(chainBytes).as("DER bytes of the client chain").isGreaterThan(1024);
        SslContext ctx = SslContextFactory.build(tls);
        try {
            if (ctx instanceof ReferenceCountedOpenSslContext openSsl) {
                assertThat(openSsl.getBioNonApplicationBufferSize()).as("BoringSSL non-application buffer")
                        .isLessThan(chainBytes / 4);
            }
        } finally {
            ReferenceCountUtil.release(ctx);
        }
    }

    private ConnectionPoolManager client(TlsOptions tls) {
        ConnectionPoolManager client = ConnectionPoolManager.builder()
                .poolConfig(testPool().connectionTimeout(Duration.ofSeconds(3)).maxRetries(2).build())
                .tls(tls)
                .ioThreads(1)
                .build();
        toClose.add(client);
        return client;
    }

    private static <T> T answer(java.util.concurrent.CompletableFuture<T> f) throws Exception {
        try {
            return f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return fail("no answer within " + WAIT + ": hung");
        } catch (ExecutionException e) {
            throw new AssertionError("request failed: " + e.getCause(), e.getCause());
        }
    }

    private static SluiceHttpException failure(java.util.concurrent.CompletableFuture<?> f) throws Exception {
        try {
            Object v = f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            return fail("expected a SluiceHttpException but completed with " + v);
        } catch (TimeoutException e) {
            return fail("did not fail within " + WAIT + ": hung");
        } catch (ExecutionException e) {
            Throwable t = io.sluice.http.internal.client.Errors.unwrap(e);
            assertThat(t).as("failure type").isInstanceOf(SluiceHttpException.class);
            return (SluiceHttpException) t;
        }
    }

    // ---------------------------------------------------------------- key material from files, and rotation

    static Stream<Arguments> providers() {
        return Stream.of(Arguments.of(TlsOptions.Provider.OPENSSL), Arguments.of(TlsOptions.Provider.JDK));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("providers")
    void aPkcs12KeyStoreAndAJksTrustStoreAuthenticateBothSides(TlsOptions.Provider provider,
                                                              @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        assumeEngine(provider);
        char[] password = "changeit-p12".toCharArray();
        java.nio.file.Path keyStore = dir.resolve("client.p12");
        writeKeyStore(keyStore, "PKCS12", password, clientLeaf);
        java.nio.file.Path trustStore = dir.resolve("trust.jks");
        java.security.KeyStore ts = java.security.KeyStore.getInstance("JKS");
        ts.load(null, null);
        ts.setCertificateEntry("server", serverCert.cert);
        try (var out = java.nio.file.Files.newOutputStream(trustStore)) {
            ts.store(out, "changeit-jks".toCharArray());
        }
        TlsOptions tls = TlsOptions.builder().provider(provider)
                .trustStore(trustStore, "JKS", "changeit-jks".toCharArray())
                .keyStore(keyStore, "PKCS12", password)
                .build();
        assertThat(tls.toString()).doesNotContain("changeit");
        MtlsServer server = startServer(Proto.H2, "TLSv1.3");
        ConnectionPoolManager client = client(tls);

        HttpResponse response = answer(client.send(HttpRequest.newBuilder(server.uri("/whoami")).build()));

        assertThat(response.bodyAsString()).contains("subject=" + clientLeaf.cert.getSubjectX500Principal().getName())
                .contains("chain=2");
    }

    @org.junit.jupiter.api.Test
    void aTrustStoreReplacesTheSystemRootsAndAWrongPasswordIsAClearError(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path keyStore = dir.resolve("client.p12");
        writeKeyStore(keyStore, "PKCS12", "right".toCharArray(), clientLeaf);
        TlsOptions wrong = TlsOptions.builder().keyStore(keyStore, "PKCS12", "wrong".toCharArray()).build();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ConnectionPoolManager.builder().tls(wrong).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key store")
                .hasMessageContaining(keyStore.toString()).hasMessageNotContaining("wrong");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> TlsOptions.builder()
                        .clientCertificate(clientChainPem, clientKeyPem).keyStore(keyStore, "PKCS12", "right".toCharArray())
                        .build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one source");
        // a trust store without the server's certificate: the system roots are not consulted either
        java.nio.file.Path emptyTrust = dir.resolve("other.p12");
        java.security.KeyStore ts = java.security.KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("someone-else", root.cert);
        try (var out = java.nio.file.Files.newOutputStream(emptyTrust)) {
            ts.store(out, "pw".toCharArray());
        }
        MtlsServer server = startServer(Proto.H2, "TLSv1.3");
        ConnectionPoolManager client = client(TlsOptions.builder().trustStore(emptyTrust, "PKCS12", "pw".toCharArray())
                .keyStore(keyStore, "PKCS12", "right".toCharArray()).build());
        SluiceHttpException e = failure(client.send(HttpRequest.newBuilder(server.uri("/whoami")).build()));
        assertThat(e).isInstanceOfSatisfying(TlsFailedException.class, t ->
                assertThat(t.reason()).isEqualTo(TlsFailedException.Reason.UNTRUSTED));
    }

    /**
     * Certificates rotate on disk (cert-manager, a Vault agent) while the service runs: after a
     * reload, new connections present the new certificate; the connection made before it keeps
     * serving; no request fails. HTTP/1.1, so that concurrent requests need connections of their own.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("providers")
    void aRotatedKeyStoreReachesNewConnectionsWithoutARestartAndNoRequestFails(TlsOptions.Provider provider,
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        assumeEngine(provider);
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048, new SecureRandom());
        Issued rotated = Issued.leaf("CN=sluice-mtls-client-rotated,O=Sluice tests", rsa.generateKeyPair(), intermediate,
                KeyPurposeId.id_kp_clientAuth, false);
        char[] password = "pw".toCharArray();
        java.nio.file.Path keyStore = dir.resolve("client.p12");
        writeKeyStore(keyStore, "PKCS12", password, clientLeaf);
        java.nio.file.Path serverPem = dir.resolve("server.pem");
        java.nio.file.Files.writeString(serverPem, pem("CERTIFICATE", serverCert.cert.getEncoded()));
        TlsOptions tls = TlsOptions.builder().provider(provider).trustCertificatePemFile(serverPem)
                .keyStore(keyStore, "PKCS12", password).build();
        MtlsServer server = startServer(Proto.H1, "TLSv1.3");
        ConnectionPoolManager client = client(tls);
        String oldSubject = "subject=" + clientLeaf.cert.getSubjectX500Principal().getName();
        String newSubject = "subject=" + rotated.cert.getSubjectX500Principal().getName();
        HttpRequest whoami = HttpRequest.newBuilder(server.uri("/whoami")).build();

        assertThat(answer(client.send(whoami)).bodyAsString()).contains(oldSubject);
        assertThat(server.handshakesOk.get()).isEqualTo(1);

        java.nio.file.Path next = dir.resolve("client.p12.new");
        writeKeyStore(next, "PKCS12", password, rotated);
        java.nio.file.Files.move(next, keyStore, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        List<java.util.concurrent.CompletableFuture<HttpResponse>> during = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            during.add(client.send(whoami)); // in flight while the material changes
        }
        client.reloadTls();
        List<String> bodies = new ArrayList<>();
        for (var f : during) {
            bodies.add(answer(f).bodyAsString());
        }
        // More slow requests at once than connections are open: at least one runs on a connection made after the reload.
        // Connects begun before the reload (pre-reload material) may still be completing: let them land first.
        await().atMost(WAIT).until(() -> client.stats(whoami.route()).connecting() == 0);
        int open = client.stats(whoami.route()).open();
        List<java.util.concurrent.CompletableFuture<HttpResponse>> after = new ArrayList<>();
        for (int i = 0; i <= open; i++) {
            after.add(client.send(HttpRequest.newBuilder(server.uri("/whoami/slow")).build()));
        }
        List<String> afterBodies = new ArrayList<>();
        for (var f : after) {
            afterBodies.add(answer(f).bodyAsString());
        }
        assertThat(bodies).allSatisfy(b -> assertThat(b).containsAnyOf(oldSubject, newSubject));
        assertThat(afterBodies).as("requests after the reload").allSatisfy(b ->
                assertThat(b).containsAnyOf(oldSubject, newSubject));
        assertThat(afterBodies).as("a connection made after the reload presents the new certificate; %s; handshakes %d",
                        client.snapshot(whoami.route()), server.handshakesOk.get())
                .anySatisfy(b -> assertThat(b).contains(newSubject));
        assertThat(server.handshakesFailed.get()).isZero();
        FaultSupport.assertAccountingExact(client);
    }

    /**
     * Every copy of a key store password the client makes is zeroed once the store is read: a heap dump of a
     * long-lived client must not hold it. Seen from the key manager's side: a key manager factory installed as the
     * JVM's default records each password array it is initialised with, and after the build all of them must be
     * zeros (the one handed to the key manager factory was left as it was).
     */
    @org.junit.jupiter.api.Test
    void noCopyOfTheKeyStorePasswordOutlivesTheContextBuild(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path keyStore = dir.resolve("client.p12");
        writeKeyStore(keyStore, "PKCS12", "s3cret-pw".toCharArray(), clientLeaf);
        java.util.List<char[]> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.security.Provider capture = new java.security.Provider("SluiceKmfCapture", "1.0", "test: records passwords") {
            {
                putService(new Service(this, "KeyManagerFactory", "SluiceKmfCapture", RecordingKeyManagerFactory.class.getName(),
                        null, null) {
                    @Override
                    public Object newInstance(Object parameter) {
                        return new RecordingKeyManagerFactory(seen);
                    }
                });
            }
        };
        String before = java.security.Security.getProperty("ssl.KeyManagerFactory.algorithm");
        java.security.Security.addProvider(capture);
        java.security.Security.setProperty("ssl.KeyManagerFactory.algorithm", "SluiceKmfCapture");
        try {
            SslContext built = SslContextFactory.build(TlsOptions.builder().provider(TlsOptions.Provider.JDK)
                    .keyStore(keyStore, "PKCS12", "s3cret-pw".toCharArray()).build());
            io.netty.util.ReferenceCountUtil.release(built);
        } finally {
            java.security.Security.setProperty("ssl.KeyManagerFactory.algorithm", before != null ? before : "SunX509");
            java.security.Security.removeProvider("SluiceKmfCapture");
        }
        assertThat(seen).as("the key manager factory was given the password").isNotEmpty();
        for (char[] pw : seen) {
            assertThat(new String(pw)).as("a password copy after the build").isEqualTo("\0".repeat(pw.length));
        }
    }

    /** Delegates to SunX509 and records the password arrays it is initialised with. */
    private static final class RecordingKeyManagerFactory extends javax.net.ssl.KeyManagerFactorySpi {
        private final java.util.List<char[]> seen;
        private final javax.net.ssl.KeyManagerFactory real;

        RecordingKeyManagerFactory(java.util.List<char[]> seen) {
            this.seen = seen;
            try {
                this.real = javax.net.ssl.KeyManagerFactory.getInstance("SunX509");
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        protected void engineInit(java.security.KeyStore ks, char[] password)
                throws java.security.KeyStoreException, java.security.NoSuchAlgorithmException,
                java.security.UnrecoverableKeyException {
            seen.add(password);
            real.init(ks, password);
        }

        @Override
        protected void engineInit(javax.net.ssl.ManagerFactoryParameters spec)
                throws java.security.InvalidAlgorithmParameterException {
            real.init(spec);
        }

        @Override
        protected javax.net.ssl.KeyManager[] engineGetKeyManagers() {
            return real.getKeyManagers();
        }
    }

    private static void writeKeyStore(java.nio.file.Path file, String type, char[] password, Issued leaf) throws Exception {
        java.security.KeyStore ks = java.security.KeyStore.getInstance(type);
        ks.load(null, null);
        ks.setKeyEntry("client", leaf.key, password, new Certificate[]{leaf.cert, intermediate.cert});
        try (var out = java.nio.file.Files.newOutputStream(file)) {
            ks.store(out, password);
        }
    }

    // ---------------------------------------------------------------- the server

    private MtlsServer startServer(Proto proto, String tlsVersion) throws Exception {
        SslContext ctx = SslContextBuilder.forServer(serverCert.key, serverCert.cert)
                .sslProvider(SslProvider.JDK)
                .protocols(tlsVersion)
                .clientAuth(ClientAuth.REQUIRE)
                .trustManager(root.cert) // only the root: the client must send the intermediate
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, proto.alpn))
                .build();
        MtlsServer server = new MtlsServer(ctx);
        toClose.add(server);
        return server;
    }

    /** A TLS server requiring client certificates; answers every request with what it verified. */
    private final class MtlsServer implements AutoCloseable {
        final AtomicInteger handshakesOk = new AtomicInteger();
        final AtomicInteger handshakesFailed = new AtomicInteger();
        final AtomicInteger answered = new AtomicInteger();
        final AtomicReference<Throwable> lastHandshakeFailure = new AtomicReference<>();
        private final SslContext ctx;
        private final Channel channel;

        MtlsServer(SslContext ctx) {
            this.ctx = ctx;
            this.channel = new ServerBootstrap().group(serverGroup).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            serverChannels.add(ch);
                            ch.pipeline().addLast(ctx.newHandler(ch.alloc()));
                            ch.pipeline().addLast(new HandshakeCounter());
                            ch.pipeline().addLast(new ApplicationProtocolNegotiationHandler(ApplicationProtocolNames.HTTP_1_1) {
                                @Override
                                protected void configurePipeline(ChannelHandlerContext c, String protocol) {
                                    ChannelPipeline p = c.pipeline();
                                    if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                                        p.addLast(Http2FrameCodecBuilder.forServer().build(), new H2Answerer());
                                    } else {
                                        p.addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024),
                                                new H1Answerer());
                                    }
                                }

                                @Override
                                protected void handshakeFailure(ChannelHandlerContext c, Throwable cause) {
                                    c.close(); // counted by HandshakeCounter; no stack trace in the log
                                }
                            });
                        }
                    }).bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
            serverChannels.add(channel);
        }

        int port() {
            return ((InetSocketAddress) channel.localAddress()).getPort();
        }

        URI uri(String path) {
            return URI.create("https://127.0.0.1:" + port() + path);
        }

        @Override
        public void close() {
            channel.close().syncUninterruptibly();
            ReferenceCountUtil.release(ctx);
        }

        private final class HandshakeCounter extends ChannelInboundHandlerAdapter {
            @Override
            public void userEventTriggered(ChannelHandlerContext c, Object evt) throws Exception {
                if (evt instanceof SslHandshakeCompletionEvent hs) {
                    if (hs.isSuccess()) {
                        handshakesOk.incrementAndGet();
                    } else {
                        handshakesFailed.incrementAndGet();
                        lastHandshakeFailure.set(hs.cause());
                    }
                }
                super.userEventTriggered(c, evt);
            }
        }

        /** What the server verified: the client leaf's subject and issuer, the chain length, the TLS version. */
        private String whoAmI(ChannelHandlerContext c) {
            SslHandler ssl = c.pipeline().get(SslHandler.class);
            try {
                Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
                X509Certificate leaf = (X509Certificate) chain[0];
                return "subject=" + leaf.getSubjectX500Principal().getName() + "\nissuer="
                        + leaf.getIssuerX500Principal().getName() + "\nchain=" + chain.length + "\nprotocol="
                        + ssl.engine().getSession().getProtocol() + "\n";
            } catch (SSLPeerUnverifiedException e) {
                return "subject=<none>\n";
            }
        }

        private final class H2Answerer extends ChannelInboundHandlerAdapter {
            @Override
            public void channelRead(ChannelHandlerContext c, Object msg) {
                try {
                    boolean end = msg instanceof Http2HeadersFrame h ? h.isEndStream()
                            : msg instanceof Http2DataFrame d && d.isEndStream();
                    if (end) {
                        Http2FrameStream stream = ((Http2StreamFrame) msg).stream();
                        byte[] body = whoAmI(c).getBytes(StandardCharsets.UTF_8);
                        answered.incrementAndGet();
                        c.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
                                .setInt("content-length", body.length)).stream(stream));
                        c.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), true).stream(stream));
                    }
                } finally {
                    ReferenceCountUtil.release(msg);
                }
            }
        }

        private final class H1Answerer extends SimpleChannelInboundHandler<FullHttpRequest> {
            @Override
            protected void channelRead0(ChannelHandlerContext c, FullHttpRequest request) {
                byte[] body = whoAmI(c).getBytes(StandardCharsets.UTF_8);
                answered.incrementAndGet();
                DefaultFullHttpResponse response = new DefaultFullHttpResponse(request.protocolVersion(),
                        HttpResponseStatus.OK, Unpooled.wrappedBuffer(body));
                response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                        .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
                boolean keepAlive = HttpUtil.isKeepAlive(request);
                Runnable write = () -> {
                    var written = c.writeAndFlush(response);
                    if (!keepAlive) {
                        written.addListener(ChannelFutureListener.CLOSE);
                    }
                };
                if (request.uri().contains("slow")) {
                    c.executor().schedule(write, 300, TimeUnit.MILLISECONDS); // holds the connection: concurrent requests need others
                } else {
                    write.run();
                }
            }
        }
    }

    // ---------------------------------------------------------------- certificates

    private static KeyPair ecKeyPair() throws Exception {
        KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
        kpg.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
        return kpg.generateKeyPair();
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /** A certificate and its private key. */
    private record Issued(X509Certificate cert, PrivateKey key) {

        /** An ECDSA CA certificate, self-signed when {@code issuer} is null. */
        static Issued ca(String subject, Issued issuer, int pathLength) throws Exception {
            KeyPair kp = ecKeyPair();
            X509v3CertificateBuilder b = builder(subject, kp.getPublic(), issuer);
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(pathLength));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign
                    | KeyUsage.digitalSignature));
            return sign(b, kp, issuer);
        }

        /** An end-entity certificate for {@code purpose}; with {@code loopbackSan}, valid for 127.0.0.1 and localhost. */
        static Issued leaf(String subject, KeyPair kp, Issued issuer, KeyPurposeId purpose, boolean loopbackSan)
                throws Exception {
            X509v3CertificateBuilder b = builder(subject, kp.getPublic(), issuer);
            if (loopbackSan) {
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[]{
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                    new GeneralName(GeneralName.dNSName, "localhost")}));
                // self-signed and trusted directly as an anchor, like the mock provider's certificate
                b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
                b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyCertSign));
            } else {
                b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
                b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature
                        | KeyUsage.keyEncipherment));
            }
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
            return sign(b, kp, issuer);
        }

        private static X509v3CertificateBuilder builder(String subject, PublicKey publicKey, Issued issuer)
                throws Exception {
            Instant now = Instant.now();
            X500Name name = new X500Name(subject);
            X500Name issuerName = issuer == null ? name : X500Name.getInstance(
                    issuer.cert.getSubjectX500Principal().getEncoded());
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuerName,
                    new BigInteger(64, new SecureRandom()), Date.from(now.minus(Duration.ofHours(1))),
                    Date.from(now.plus(Duration.ofDays(1))), name, publicKey);
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(publicKey));
            if (issuer != null) {
                b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(issuer.cert));
            }
            return b;
        }

        private static Issued sign(X509v3CertificateBuilder b, KeyPair kp, Issued issuer) throws Exception {
            PrivateKey signer = issuer == null ? kp.getPrivate() : issuer.key;
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)));
            return new Issued(cert, kp.getPrivate());
        }
    }
}

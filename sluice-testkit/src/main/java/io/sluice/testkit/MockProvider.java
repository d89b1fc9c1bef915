package io.sluice.testkit;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An embedded mock AI provider: a real Netty server speaking the OpenAI and Anthropic wire formats
 * over HTTP/1.1, HTTP/2 (TLS with ALPN, and h2c prior knowledge on the plain port) and WebSocket,
 * with per-request fault knobs ({@code x-mock-*} headers, see {@link MockBehavior}) and counters.
 *
 * <pre>{@code
 * try (MockProvider mock = MockProvider.start(MockOptions.defaults())) {
 *     URI base = mock.httpsUri();          // https://localhost:PORT
 *     String pem = mock.certificatePem();  // trust this certificate
 *     ...
 *     MockStats stats = mock.stats();
 * }
 * }</pre>
 *
 * <p>Thread-safe: every method may be called from any thread. Owns its event loop threads, server
 * sockets, open connections and TLS context; {@link #close()} releases them all and is idempotent.
 */
public final class MockProvider implements AutoCloseable {
    private final MockServerContext server;
    private final MockCertificate certificate;
    private final SslContext sslContext;
    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final Channel tlsChannel;
    private final Channel plainChannel;
    private final String transport;
    private final AtomicBoolean closed = new AtomicBoolean();

    private MockProvider(MockOptions options) {
        this.server = new MockServerContext(options);
        this.certificate = MockCertificate.generate();
        this.sslContext = TlsContextFactory.create(certificate, options.forceJdkSsl());
        ServerTransport t = ServerTransport.detect();
        this.transport = t.name();
        this.bossGroup = t.newGroup(1, "sluice-mock-accept");
        this.workerGroup = t.newGroup(options.ioThreads(), "sluice-mock-io");
        ProtocolPipelines pipelines = new ProtocolPipelines(server);
        HandshakeClassifier handshakes = new HandshakeClassifier();
        Channel tls = null;
        try {
            tls = bind(t, options.tlsPort(), new ConnectionInitializer(server, pipelines, sslContext, handshakes));
            this.tlsChannel = tls;
            this.plainChannel = bind(t, options.plainPort(), new ConnectionInitializer(server, pipelines, null, handshakes));
        } catch (RuntimeException e) {
            if (tls != null) {
                tls.close().syncUninterruptibly();
            }
            shutdownGroups();
            ReferenceCountUtil.release(sslContext);
            throw e;
        }
    }

    /**
     * Starts a server and returns once both ports are bound.
     *
     * @throws IllegalStateException when a port cannot be bound (the message names it)
     */
    public static MockProvider start(MockOptions options) {
        return new MockProvider(Objects.requireNonNull(options, "options"));
    }

    /** Starts a server with {@link MockOptions#defaults()}. */
    public static MockProvider start() {
        return start(MockOptions.defaults());
    }

    private Channel bind(ServerTransport t, int port, ConnectionInitializer initializer) {
        ServerBootstrap b = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(t.channelClass())
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(initializer);
        String host = server.options.host();
        try {
            return b.bind(new InetSocketAddress(host, port)).syncUninterruptibly().channel();
        } catch (Exception e) {
            throw new IllegalStateException("cannot bind the mock provider to " + host + ":" + port + ": " + e, e);
        }
    }

    public MockOptions options() {
        return server.options;
    }

    /** The bound TLS port (ALPN h2 and http/1.1). */
    public int tlsPort() {
        return ((InetSocketAddress) tlsChannel.localAddress()).getPort();
    }

    /** The bound cleartext port (HTTP/1.1 and h2c prior knowledge). */
    public int plainPort() {
        return ((InetSocketAddress) plainChannel.localAddress()).getPort();
    }

    /** {@code https://localhost:PORT}: the certificate is valid for {@code localhost} and 127.0.0.1. */
    public URI httpsUri() {
        return URI.create("https://localhost:" + tlsPort());
    }

    /** {@code http://HOST:PORT} on the bound address. */
    public URI httpUri() {
        return URI.create("http://" + uriHost() + ":" + plainPort());
    }

    /** {@code wss://localhost:PORT/v1/realtime}. */
    public URI wssUri() {
        return URI.create("wss://localhost:" + tlsPort() + Routes.REALTIME);
    }

    /** {@code ws://HOST:PORT/v1/realtime}. */
    public URI wsUri() {
        return URI.create("ws://" + uriHost() + ":" + plainPort() + Routes.REALTIME);
    }

    private String uriHost() {
        String h = server.options.host();
        return h.contains(":") ? "[" + h + "]" : h;
    }

    /** The server certificate (self-signed, its own trust anchor) as PEM. */
    public String certificatePem() {
        return certificate.pem();
    }

    /** "OpenSSL (BoringSSL)" or "JDK": the TLS engine in use. */
    public String tlsProvider() {
        return sslContext.isServer() && sslContext.getClass().getSimpleName().startsWith("OpenSsl")
                || sslContext.getClass().getSimpleName().startsWith("ReferenceCountedOpenSsl")
                ? "OpenSSL (" + OpenSsl.versionString() + ")" : "JDK";
    }

    /** "epoll" or "nio". */
    public String transport() {
        return transport;
    }

    /** A snapshot of the counters. */
    public MockStats stats() {
        return server.stats.snapshot();
    }

    /** Zeroes the counters; gauges (open connections and streams) keep their current values. */
    public void resetCounters() {
        server.stats.reset();
    }

    /** The default behaviour for requests that do not override it with headers. */
    public MockBehavior behavior() {
        return server.behavior();
    }

    /** Replaces the default behaviour; requests already in progress keep the one they started with. */
    public void behavior(MockBehavior behavior) {
        server.behavior(Objects.requireNonNull(behavior, "behavior"));
    }

    /** The SETTINGS_MAX_CONCURRENT_STREAMS new HTTP/2 connections get. */
    public int maxConcurrentStreams() {
        return server.maxConcurrentStreams.get();
    }

    /**
     * Changes SETTINGS_MAX_CONCURRENT_STREAMS for new connections and sends a SETTINGS frame with the
     * new value to every open HTTP/2 connection (it applies there once the peer acknowledges it).
     */
    public void updateMaxConcurrentStreams(int maxStreams) {
        if (maxStreams < 0) {
            throw new IllegalArgumentException("maxStreams must be >= 0, got " + maxStreams);
        }
        server.maxConcurrentStreams.set(maxStreams);
        server.connections.sendSettings(new Http2Settings().maxConcurrentStreams(maxStreams));
    }

    /** Closes every open connection abruptly (SO_LINGER 0: the peer sees a reset, no GOAWAY, no close_notify). */
    public void killConnections() {
        server.connections.killAll();
    }

    /** Sends GOAWAY on every HTTP/2 connection; each closes once its open streams finish. */
    public void goAwayAll() {
        server.connections.goAwayAll();
    }

    /** Stops accepting, closes all connections and releases threads and the TLS context. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        tlsChannel.close().syncUninterruptibly();
        plainChannel.close().syncUninterruptibly();
        server.connections.closeAll();
        shutdownGroups();
        ReferenceCountUtil.release(sslContext);
    }

    private void shutdownGroups() {
        bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Override
    public String toString() {
        return "MockProvider[" + httpsUri() + ", " + httpUri() + "]";
    }
}

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
import java.time.Duration;
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

    private static final long BIND_RETRY_NANOS = TimeUnit.SECONDS.toNanos(2);

    private MockProvider(MockOptions options, MockCertificate certificate) {
        this.server = new MockServerContext(options);
        this.certificate = certificate;
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
        return new MockProvider(Objects.requireNonNull(options, "options"), MockCertificate.generate());
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
        // A fixed port just released by a previous server (restart) can take a moment to become
        // bindable even with SO_REUSEADDR, so a fixed port is retried briefly; an ephemeral one is not.
        long deadline = System.nanoTime() + (port == 0 ? 0 : BIND_RETRY_NANOS);
        while (true) {
            try {
                return b.bind(new InetSocketAddress(host, port)).syncUninterruptibly().channel();
            } catch (Exception e) {
                if (System.nanoTime() >= deadline) {
                    throw new IllegalStateException("cannot bind the mock provider to " + host + ":" + port + ": " + e, e);
                }
                sleepQuietly(50);
            }
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while (re)starting the mock provider", e);
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

    /**
     * Refills the enforced rate limit's buckets completely (between the phases of a bench, say).
     * Without {@link MockOptions#enforceRateLimits()} it does nothing.
     */
    public void resetRateLimits() {
        if (server.limiter != null) {
            server.limiter.reset();
        }
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

    /**
     * Graceful GOAWAY on every HTTP/2 connection, as RFC 9113 §6.8 intends: GOAWAY(NO_ERROR,
     * last-stream-id = the highest stream accepted); open streams up to it are served to completion,
     * streams the client opens afterwards are refused (RST_STREAM REFUSED_STREAM), and frames for
     * them are ignored; each connection closes when its last open stream ends, or after
     * {@link MockOptions#goAwayDrainTimeout()}. HTTP/1.1 and WebSocket connections are untouched.
     */
    public void goAwayAll() {
        goAwayAll(false);
    }

    /**
     * GOAWAY on every HTTP/2 connection; with {@code abrupt} the socket is closed right after the
     * GOAWAY is written, cutting open streams (what a crashing or impatient server does), otherwise
     * as {@link #goAwayAll()}.
     */
    public void goAwayAll(boolean abrupt) {
        server.connections.goAwayAll(abrupt);
    }

    /** Whether HTTP/2 PINGs are currently left unanswered. */
    public boolean ignorePings() {
        return server.ignorePings();
    }

    /**
     * HTTP/2 PINGs this server has acknowledged since it started, on every connection (keepalive,
     * validation and BDP PINGs alike; a PING left unanswered by {@link #ignorePings(boolean)} is not
     * counted). Lets a test wait for keepalive rounds instead of sleeping. Not reset by
     * {@link #resetCounters()}: compare two readings.
     */
    public long pingsAnswered() {
        return server.pingsAnswered.get();
    }

    /**
     * Stops (true) or resumes (false) acknowledging HTTP/2 PINGs on every connection, open or new,
     * so a client's PING timeout can be tested. Other frames are served as usual.
     */
    public void ignorePings(boolean ignore) {
        server.ignorePings(ignore);
    }

    /**
     * "The server restarted": closes this provider as if its process died (every connection is reset,
     * no GOAWAY) and starts a new one on the same ports with the same certificate (so clients that
     * trust it keep working) and the current runtime settings (behaviour, max concurrent streams,
     * ignorePings). Counters start from zero. This instance is closed afterwards; use the returned
     * one.
     *
     * @throws IllegalStateException when the ports cannot be bound again within 2 s
     */
    public MockProvider restart() {
        return restart(Duration.ZERO);
    }

    /**
     * As {@link #restart()}, with the ports closed for {@code downtime} in between, so that clients
     * see connection refused meanwhile.
     */
    public MockProvider restart(Duration downtime) {
        Objects.requireNonNull(downtime, "downtime");
        MockOptions next = server.options.toBuilder()
                .tlsPort(tlsPort())
                .plainPort(plainPort())
                .behavior(server.behavior())
                .maxConcurrentStreams(server.maxConcurrentStreams.get())
                .ignorePings(server.ignorePings())
                .build();
        server.connections.killAll();
        close();
        if (!downtime.isZero() && !downtime.isNegative()) {
            sleepQuietly(downtime.toMillis());
        }
        return new MockProvider(next, certificate);
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

package io.sluice.testkit.adversary;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.sluice.testkit.SelfSignedTls;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * An HTTP/2 server that sends what a script says, not what the protocol allows: for testing how a
 * client copes with peers that answer before reading the body, reset streams after answering,
 * withhold flow-control credit or PING ACKs, send GOAWAY with any last-stream-id, or drop the
 * connection at a chosen moment. It speaks h2c with prior knowledge, or TLS with ALPN {@code h2}
 * (a fresh self-signed certificate, {@link #certificatePem()}).
 *
 * <p>It does not use Netty's HTTP/2 state machine: frames are parsed with
 * {@code DefaultHttp2FrameReader} and written with {@code DefaultHttp2FrameWriter}. The server
 * itself only sends its SETTINGS after the preface, ACKs the client's SETTINGS and PINGs (each
 * can be switched off), and nothing else: no WINDOW_UPDATE unless a script asks for one, so a
 * script controls the client's send window.
 *
 * <p>Each new request stream, numbered by arrival across all connections from 1, runs the
 * {@link H2Script} chosen for its number ({@link Builder#script}, else the default script,
 * {@link H2Script#ok()} unless set). What arrived is recorded per stream ({@link #streams()})
 * and per connection ({@link #connectionRecords()}).
 *
 * <pre>{@code
 * try (AdversaryH2Server server = AdversaryH2Server.builder()
 *         .script(1, H2Script.stream().headers(200).data("ok", true).rstStream(Http2Error.NO_ERROR))
 *         .start()) {
 *     URI uri = server.uri().resolve("/v1/chat/completions");
 *     ...
 *     assertThat(server.streams()).hasSize(1);
 * }
 * }</pre>
 *
 * <p>Thread-safe: every method may be called from any thread; scripts run on the server's single
 * event loop thread. Owns that thread, the listening socket, every accepted connection and the
 * TLS context; {@link #close()} releases them all and is idempotent.
 */
public final class AdversaryH2Server implements AutoCloseable {
    private final EventLoopGroup group;
    private final Channel listener;
    private final ChannelGroup children = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final SslContext sslContext;
    private final String certificatePem;
    private final Http2Settings settings;
    private final IntFunction<H2Script> scripts;
    private final AtomicInteger requests = new AtomicInteger();
    /** Streams recorded (in the map); what {@link #awaitStreams} waits on, behind {@link #requests} while one is recorded. */
    private final AtomicInteger recorded = new AtomicInteger();
    private final Map<Integer, H2StreamRecord> streams = new ConcurrentHashMap<>();
    private final List<H2ConnectionRecord> connections = new CopyOnWriteArrayList<>();
    private final AtomicInteger connectionCount = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final boolean ackSettings;
    private volatile boolean ackPings;

    private AdversaryH2Server(Builder b) {
        this.settings = b.settings;
        this.ackSettings = b.ackSettings;
        this.ackPings = b.ackPings;
        Map<Integer, H2Script> byNumber = Map.copyOf(b.scripts);
        H2Script fallback = b.defaultScript;
        this.scripts = n -> byNumber.getOrDefault(n, fallback);
        SelfSignedTls tls = b.tls ? SelfSignedTls.generate() : null;
        this.certificatePem = tls == null ? null : tls.certificatePem();
        this.sslContext = tls == null ? null : tls.nettyServerContext(ApplicationProtocolNames.HTTP_2);
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("adversary-h2", true),
                NioIoHandler.newFactory());
        try {
            this.listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            accept(ch);
                        }
                    }).bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            ReferenceCountUtil.release(sslContext);
            throw e;
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    private void accept(Channel ch) {
        children.add(ch);
        H2ConnectionRecord record = new H2ConnectionRecord(connectionCount.incrementAndGet());
        connections.add(record);
        if (sslContext == null) {
            ch.pipeline().addLast(new H2Connection(this, record));
            return;
        }
        ch.pipeline().addLast(sslContext.newHandler(ch.alloc()));
        ch.pipeline().addLast(new ApplicationProtocolNegotiationHandler(ApplicationProtocolNames.HTTP_2) {
            @Override
            protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
                if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                    ctx.pipeline().addLast(new H2Connection(AdversaryH2Server.this, record));
                } else {
                    ctx.close();
                }
            }
        });
    }

    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** {@code http://127.0.0.1:PORT} for h2c, {@code https://localhost:PORT} for TLS. */
    public URI uri() {
        return URI.create(sslContext == null ? "http://127.0.0.1:" + port() : "https://localhost:" + port());
    }

    /** The PEM certificate a client must trust; null for an h2c server. */
    public String certificatePem() {
        return certificatePem;
    }

    /** Connections accepted so far. */
    public int connections() {
        return connectionCount.get();
    }

    /** One record per accepted connection, in order. */
    public List<H2ConnectionRecord> connectionRecords() {
        return List.copyOf(connections);
    }

    /** Every request stream received so far, in arrival order. */
    public List<H2StreamRecord> streams() {
        List<H2StreamRecord> all = new ArrayList<>(streams.values());
        all.sort(Comparator.comparingInt(H2StreamRecord::requestNumber));
        return all;
    }

    /** Request number {@code n} (1-based), or null if it has not arrived. */
    public H2StreamRecord stream(int n) {
        return streams.get(n);
    }

    /** Waits until at least {@code count} request streams arrived; false when {@code timeout} passed first. */
    public boolean awaitStreams(int count, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (recorded.get() < count) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            Thread.sleep(5);
        }
        return true;
    }

    /** Switches PING ACKs on or off for every connection, now and later. */
    public void ackPings(boolean on) {
        this.ackPings = on;
    }

    boolean acksPings() {
        return ackPings;
    }

    boolean acksClientSettings() {
        return ackSettings;
    }

    Http2Settings initialSettings() {
        return settings;
    }

    int nextRequestNumber() {
        return requests.incrementAndGet();
    }

    H2Script scriptFor(int n) {
        return scripts.apply(n);
    }

    void recordStream(H2StreamRecord record) {
        streams.put(record.requestNumber(), record);
        // Counted only once it is in the map: awaitStreams(n) promises that stream(n) is there.
        recorded.incrementAndGet();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        listener.close().syncUninterruptibly();
        children.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        ReferenceCountUtil.release(sslContext);
    }

    /**
     * Configures an {@link AdversaryH2Server}. Defaults: h2c, empty SETTINGS (the protocol's
     * defaults: unlimited streams, 65 535-byte windows), client SETTINGS and PINGs acknowledged,
     * every request answered by {@link H2Script#ok()}.
     *
     * <p>Not thread-safe; confine to one thread.
     */
    public static final class Builder {
        private final Map<Integer, H2Script> scripts = new HashMap<>();
        private H2Script defaultScript = H2Script.ok();
        private Http2Settings settings = new Http2Settings();
        private boolean tls;
        private boolean ackSettings = true;
        private boolean ackPings = true;

        private Builder() {
        }

        /** TLS with ALPN {@code h2} on a fresh self-signed certificate instead of h2c. */
        public Builder tls(boolean on) {
            this.tls = on;
            return this;
        }

        /** The SETTINGS the server sends after the preface (replaces any set before). */
        public Builder settings(Http2Settings s) {
            Http2Settings copy = new Http2Settings();
            copy.copyFrom(Objects.requireNonNull(s, "settings"));
            this.settings = copy;
            return this;
        }

        public Builder maxConcurrentStreams(long n) {
            settings.maxConcurrentStreams(n);
            return this;
        }

        /** SETTINGS_INITIAL_WINDOW_SIZE: the client's initial send window per stream. */
        public Builder initialWindowSize(int bytes) {
            settings.initialWindowSize(bytes);
            return this;
        }

        public Builder maxFrameSize(int bytes) {
            settings.maxFrameSize(bytes);
            return this;
        }

        /** Whether the client's SETTINGS are acknowledged (default true). */
        public Builder ackClientSettings(boolean on) {
            this.ackSettings = on;
            return this;
        }

        /** Whether the client's PINGs are acknowledged (default true); switchable later with {@link #ackPings(boolean)}. */
        public Builder ackPings(boolean on) {
            this.ackPings = on;
            return this;
        }

        /** The script for request number {@code n} (1-based, across connections). */
        public Builder script(int n, H2Script script) {
            if (n < 1) {
                throw new IllegalArgumentException("request numbers start at 1: " + n);
            }
            scripts.put(n, Objects.requireNonNull(script, "script"));
            return this;
        }

        /** Scripts for requests 1, 2, ... in order. */
        public Builder scripts(H2Script... inOrder) {
            for (int i = 0; i < inOrder.length; i++) {
                script(i + 1, inOrder[i]);
            }
            return this;
        }

        /** The script for every request without its own (default {@link H2Script#ok()}). */
        public Builder defaultScript(H2Script script) {
            this.defaultScript = Objects.requireNonNull(script, "script");
            return this;
        }

        /** Binds 127.0.0.1 on a free port and starts accepting. */
        public AdversaryH2Server start() {
            return new AdversaryH2Server(this);
        }
    }
}

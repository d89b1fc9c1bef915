package io.sluice.websocket;

import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.sluice.http.ClientClosedException;
import io.sluice.http.InvalidRequestException;
import io.sluice.http.SluiceHttpException;
import io.sluice.http.TlsOptions;
import io.sluice.http.spi.PoolFailures;
import io.sluice.http.spi.Redaction;
import io.sluice.http.spi.RequestValidator;
import io.sluice.http.spi.NettyTransport;
import io.sluice.pool.Lease;
import io.sluice.pool.Pool;
import io.sluice.pool.PoolConfig;
import io.sluice.pool.PoolStats;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;

/**
 * A pool of WebSocket connections to one URL ({@code ws://} or {@code wss://}): each
 * {@link #acquire()} hands out one connection exclusively, already upgraded with the
 * configured headers (Authorization, ...) and subprotocols; closing the lease returns it
 * with its session for the next caller.
 *
 * <pre>{@code
 * try (WebSocketPool pool = WebSocketPool.builder(URI.create("wss://api.openai.com/v1/realtime?model=gpt-realtime"))
 *         .header("Authorization", "Bearer " + key)
 *         .build();
 *      WebSocketLease ws = pool.acquire().join()) {
 *     ws.sendText("{\"type\":\"response.create\"}").join();
 *     WebSocketMessage m = ws.receive().join();
 * }
 * }</pre>
 *
 * <p>Pool behaviour is {@link Pool}'s: FIFO waiters, connects only for unmet demand, connect
 * retries, validation on checkout after the bypass window (here a ping that must be answered
 * within {@code pingTimeout}, 5 s by default), idle timeout, max lifetime. A connection that
 * the peer closes, that fails, or whose pong is missing leaves the pool at once.
 *
 * <p>Defaults that differ from HTTP: {@code minIdle} is 0, because each provider WebSocket is
 * a stateful, separately billed and rate-limited session (OpenAI Realtime counts sessions
 * and ends them after a time limit); pre-opening ten would hold ten sessions nobody asked
 * for. Set a {@link PoolConfig} with {@code minIdle > 0} to pre-warm anyway. The pool's
 * {@code validationTimeout} is raised to {@code pingTimeout} + 1 s when lower, so the ping's
 * own timer decides, with a clear error.
 *
 * <p><b>Thread-safety:</b> thread-safe. <b>Ownership:</b> owns its pool, TLS context and DNS
 * executor, and its event loops unless a {@link NettyTransport} was given (then borrowed);
 * {@link #close()} releases what it owns. Never logs or prints header values.
 */
public final class WebSocketPool implements AutoCloseable {

    /** Default largest message, after reassembly: 16 MiB (a long realtime transcript or audio chunk fits). */
    public static final int DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
    /** 5 s: a validation ping whose pong takes longer marks the connection dead. */
    public static final Duration DEFAULT_PING_TIMEOUT = Duration.ofSeconds(5);
    /** 10 s: the bound on TCP, TLS and the upgrade handshake together. */
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    /** How long a close handshake waits for the peer's Close. */
    public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(1);
    /** Messages held per connection before reading pauses (leased) or the connection is dropped (idle). */
    public static final int DEFAULT_MAX_BUFFERED_MESSAGES = 4096;

    /** Built and sent by the handshake itself; a user value would break or duplicate it. */
    private static final Set<String> RESERVED_HEADERS = Set.of("host", "upgrade", "connection", "sec-websocket-key",
            "sec-websocket-version", "sec-websocket-accept", "sec-websocket-protocol", "sec-websocket-extensions",
            "content-length", "transfer-encoding");

    private final String name;
    private final WebSocketSettings settings;
    private final Pool<WebSocketConnection> pool;
    private final WebSocketConnectionManager manager;
    private final NettyTransport transport;
    private final boolean ownsTransport;
    private final SslContext sslContext;
    /** The DNS executor this pool made and shuts down at close; null when it uses shared resources'. */
    private final ExecutorService ownedDns;
    private final Executor completer;
    private final AtomicBoolean closed = new AtomicBoolean();

    private WebSocketPool(Builder b, WebSocketSettings settings) {
        this.settings = settings;
        this.name = b.name != null ? b.name : "ws " + Redaction.redactUri(settings.uri());
        if (b.resources != null && b.resources.isClosed()) {
            throw new IllegalStateException("the shared SluiceResources are closed");
        }
        this.completer = b.callbackExecutor != null ? b.callbackExecutor
                : b.resources != null ? b.resources.callbackExecutor() : ForkJoinPool.commonPool();
        NettyTransport shared = b.resources != null ? b.resources.unwrap(NettyTransport.class) : b.transport;
        this.ownsTransport = shared == null;
        this.transport = ownsTransport ? new NettyTransport(0, true, settings.handshakeTimeout()) : shared;
        SslContext ssl = null;
        ExecutorService dnsPool = null;
        try {
            ssl = settings.secure() ? WebSocketTls.build(b.tls) : null;
            Executor dns;
            if (b.resources != null) {
                dns = b.resources.dnsExecutor();
            } else {
                // Bounded: look-ups beyond four at once wait their turn rather than each taking a thread.
                java.util.concurrent.ThreadPoolExecutor lookups = new java.util.concurrent.ThreadPoolExecutor(4, 4, 30,
                        TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(),
                        new DefaultThreadFactory("sluice-ws-dns", true));
                lookups.allowCoreThreadTimeOut(true);
                dnsPool = lookups;
                dns = lookups;
            }
            this.manager = new WebSocketConnectionManager(new WebSocketConnector(settings, transport, ssl, dns, completer));
            this.pool = Pool.builder(manager).name(name).config(poolConfig(b)).build();
        } catch (RuntimeException e) {
            ReferenceCountUtil.release(ssl);
            if (dnsPool != null) {
                dnsPool.shutdown();
            }
            if (ownsTransport) {
                transport.close();
            }
            throw e;
        }
        this.sslContext = ssl;
        this.ownedDns = dnsPool;
    }

    private static PoolConfig poolConfig(Builder b) {
        PoolConfig c = b.poolConfig != null ? b.poolConfig : PoolConfig.builder().minIdle(0).build();
        Duration atLeast = b.pingTimeout.plusSeconds(1);
        return c.validationTimeout().compareTo(atLeast) < 0 ? c.toBuilder().validationTimeout(atLeast).build() : c;
    }

    /** Starts a pool for {@code uri}: {@code ws://} or {@code wss://}, absolute, no user-info or fragment. */
    public static Builder builder(URI uri) {
        return new Builder(uri);
    }

    /**
     * One exclusive connection: already complete when an idle one is free and needs no
     * validation; otherwise completes when one frees up or is opened, or fails with a
     * {@link SluiceHttpException}: {@link io.sluice.http.RequestTimeoutException} (ACQUIRE after
     * the pool's connectionTimeout, CONNECT when the handshake timed out),
     * {@link io.sluice.http.TlsFailedException}, {@link io.sluice.http.ProtocolException} with a
     * {@link WebSocketUpgradeRejectedException} cause (401 and other permanent refusals),
     * {@link io.sluice.http.ConnectFailedException}, {@link io.sluice.http.PoolExhaustedException}
     * or {@link ClientClosedException}. Cancelling the future (or timing it out) gives up the
     * place in the queue; a connection delivered at the same moment goes back to the pool.
     */
    public CompletableFuture<WebSocketLease> acquire() {
        if (closed.get()) {
            return CompletableFuture.failedFuture(new ClientClosedException(settings.route(), "the WebSocket pool is closed"));
        }
        CompletableFuture<Lease<WebSocketConnection>> inner = pool.acquire();
        CompletableFuture<WebSocketLease> outer = new CompletableFuture<>();
        BiConsumer<Lease<WebSocketConnection>, Throwable> handOver = (lease, err) -> {
            if (err != null) {
                outer.completeExceptionally(PoolFailures.map(settings.route(), err, pool.config().connectionTimeout()));
                return;
            }
            WebSocketLease ws = new WebSocketLease(lease, settings.route());
            if (!outer.complete(ws)) {
                ws.close(); // the caller cancelled or timed out meanwhile: the slot goes back
            }
        };
        if (inner.isDone()) {
            inner.whenComplete(handOver); // the common case: an idle connection, on the caller's thread
        } else {
            // completed by a connect or a pong on an event loop: callers' continuations run elsewhere
            inner.whenCompleteAsync(handOver, completer);
        }
        outer.whenComplete((l, err) -> {
            if (err != null) {
                inner.cancel(false); // caller gave up: leave the queue (no-op if inner is already done)
            }
        });
        return outer;
    }

    /** The URL. */
    public URI uri() {
        return settings.uri();
    }

    /** The underlying pool, for the health monitor, the adaptive scaler and metrics. */
    public Pool<WebSocketConnection> pool() {
        return pool;
    }

    /** A snapshot of the pool's accounting. */
    public PoolStats stats() {
        return pool.stats();
    }

    /**
     * Closes the pool: waiting acquires fail, every connection (leased ones too: their leases'
     * sends and receives fail with {@link ClientClosedException}) starts its close handshake,
     * and, unless called on an event loop, this waits up to closeTimeout (+ 1 s) for the
     * channels to close before releasing the event loops, TLS context and DNS threads it owns.
     * Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        pool.closeNow(); // the live connections are closed below with a close handshake; no grace period
        List<WebSocketConnection> live = manager.liveConnections();
        live.forEach(WebSocketConnection::close);
        long deadline = System.nanoTime() + settings.closeTimeout().plusSeconds(1).toNanos();
        for (WebSocketConnection c : live) {
            long left = deadline - System.nanoTime();
            if (left > 0 && !inEventLoop()) {
                c.closeFuture().awaitUninterruptibly(left, TimeUnit.NANOSECONDS);
            }
        }
        ReferenceCountUtil.release(sslContext);
        if (ownedDns != null) {
            ownedDns.shutdown();
        }
        if (ownsTransport) {
            transport.close();
        }
    }

    private boolean inEventLoop() {
        for (var executor : transport.group()) {
            if (executor.inEventLoop()) {
                return true;
            }
        }
        return false;
    }

    /** Name, URL (key-like query parameters redacted) and settings; header values redacted. */
    @Override
    public String toString() {
        return "WebSocketPool[" + name + ", " + settings + "]";
    }

    /**
     * Builds a {@link WebSocketPool}; starts from the defaults above.
     *
     * <p><b>Thread-safety:</b> not thread-safe; confine to one thread.
     */
    public static final class Builder {
        private final URI uri;
        private final List<Map.Entry<String, String>> headers = new ArrayList<>();
        private final List<String> subprotocols = new ArrayList<>();
        private String name;
        private PoolConfig poolConfig;
        private TlsOptions tls = TlsOptions.defaults();
        private int maxMessageSize = DEFAULT_MAX_MESSAGE_SIZE;
        private Duration handshakeTimeout = DEFAULT_HANDSHAKE_TIMEOUT;
        private Duration pingTimeout = DEFAULT_PING_TIMEOUT;
        private Duration closeTimeout = DEFAULT_CLOSE_TIMEOUT;
        private int maxBufferedMessages = DEFAULT_MAX_BUFFERED_MESSAGES;
        private NettyTransport transport;
        private Executor callbackExecutor;
        private io.sluice.http.SluiceResources resources;

        private Builder(URI uri) {
            this.uri = RequestValidator.validateWebSocketUri(uri);
        }

        /** The pool's name in logs, errors and metrics; defaults to "ws " and the redacted URL. */
        public Builder name(String n) {
            this.name = Objects.requireNonNull(n, "name");
            return this;
        }

        /**
         * Adds a handshake header (Authorization, OpenAI-Beta, x-api-key, ...). Validated now
         * (no CR/LF); headers the handshake owns (Host, Upgrade, Connection, Sec-WebSocket-*)
         * are refused: use {@link #subprotocols} for Sec-WebSocket-Protocol.
         */
        public Builder header(String headerName, String value) {
            RequestValidator.validateHeader(headerName, value);
            if (RESERVED_HEADERS.contains(headerName.toLowerCase(Locale.ROOT))) {
                throw new InvalidRequestException("header \"" + headerName + "\" is set by the WebSocket handshake itself"
                        + (headerName.equalsIgnoreCase("sec-websocket-protocol") ? "; use subprotocols(...)" : ""));
            }
            headers.add(Map.entry(headerName, value));
            return this;
        }

        /** Subprotocols to offer, most preferred first; the server's choice is {@link WebSocketConnection#subprotocol()}. */
        public Builder subprotocols(String... protocols) {
            for (String p : protocols) {
                RequestValidator.validateHeaderName(p); // a subprotocol is an RFC 9110 token, like a header name
                subprotocols.add(p);
            }
            return this;
        }

        /** Pool settings; default: {@link PoolConfig}'s defaults with minIdle 0 (see the class comment). */
        public Builder poolConfig(PoolConfig c) {
            this.poolConfig = Objects.requireNonNull(c, "poolConfig");
            return this;
        }

        /** TLS settings for {@code wss://}; ALPN is always {@code http/1.1}. */
        public Builder tls(TlsOptions t) {
            this.tls = Objects.requireNonNull(t, "tls");
            return this;
        }

        /** Largest message accepted after reassembly; a larger one fails the connection with LimitExceededException. */
        public Builder maxMessageSize(int bytes) {
            if (bytes < 125) { // a control frame's maximum; anything smaller is surely a mistake
                throw new IllegalArgumentException("maxMessageSize must be at least 125 bytes, was " + bytes);
            }
            this.maxMessageSize = bytes;
            return this;
        }

        /** Bound on TCP connect, TLS handshake and HTTP upgrade together. */
        public Builder handshakeTimeout(Duration d) {
            this.handshakeTimeout = positive("handshakeTimeout", d);
            return this;
        }

        /** How long a validation ping waits for its pong (default 5 s). */
        public Builder pingTimeout(Duration d) {
            this.pingTimeout = positive("pingTimeout", d);
            return this;
        }

        /** How long closing waits for the peer's Close frame before closing the socket. */
        public Builder closeTimeout(Duration d) {
            this.closeTimeout = positive("closeTimeout", d);
            return this;
        }

        /** Messages buffered per connection before reading pauses (leased) or the idle connection is dropped. */
        public Builder maxBufferedMessages(int n) {
            if (n < 2) {
                throw new IllegalArgumentException("maxBufferedMessages must be at least 2, was " + n);
            }
            this.maxBufferedMessages = n;
            return this;
        }

        /**
         * Shares an existing transport's event loops (borrowed: not closed with the pool). Package-private:
         * the transport is not a public type; sharing event loops between clients through a public
         * resources object is a later feature.
         */
        /**
         * Runs this pool on shared threads (event loops, DNS, and, unless {@link #callbackExecutor}
         * is set, callbacks), as HTTP clients on the same {@link io.sluice.http.SluiceResources} do;
         * the caller keeps owning them and closes them after this pool.
         */
        public Builder resources(io.sluice.http.SluiceResources shared) {
            this.resources = Objects.requireNonNull(shared, "shared");
            return this;
        }

        Builder transport(NettyTransport t) {
            this.transport = Objects.requireNonNull(t, "transport");
            return this;
        }

        /** Where futures given to callers complete (default: the common fork-join pool); never an event loop. */
        public Builder callbackExecutor(Executor e) {
            this.callbackExecutor = Objects.requireNonNull(e, "callbackExecutor");
            return this;
        }

        public WebSocketPool build() {
            String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
            String host = uri.getHost();
            int port = uri.getPort() != -1 ? uri.getPort() : scheme.equals("wss") ? 443 : 80;
            String route = scheme + "://" + host + ":" + port;
            WebSocketSettings s = new WebSocketSettings(uri, route, headers, subprotocols, maxMessageSize,
                    handshakeTimeout, pingTimeout, closeTimeout, maxBufferedMessages);
            return new WebSocketPool(this, s);
        }

        private static Duration positive(String field, Duration d) {
            Objects.requireNonNull(d, field);
            if (d.isZero() || d.isNegative()) {
                throw new IllegalArgumentException(field + " must be positive, was " + d);
            }
            return d;
        }
    }
}

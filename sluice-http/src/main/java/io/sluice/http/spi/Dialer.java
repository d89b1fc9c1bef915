package io.sluice.http.spi;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.NetUtil;
import io.sluice.http.ConnectFailedException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * Opens one channel to a host: DNS (off the event loop), TCP with the transport's socket options,
 * and TLS with SNI and the context's ALPN protocols when a context is given. The HTTP client's
 * connection manager and the WebSocket connector both dial through it, each adding only its
 * protocol's handlers (HTTP: the ALPN choice of h2 or http/1.1; WebSocket: the upgrade).
 *
 * <p><b>Timeouts:</b> the dialer arms no timer of its own and takes no deadline, on purpose: its
 * callers' attempts go on after the dial (the HTTP/2 preface, the WebSocket upgrade), and one timer
 * over the whole attempt is simpler than a dial deadline plus a second timer for the rest. So the
 * attempt is bounded once, by its caller's single timer (the HTTP connect timeout, the WebSocket
 * handshake timeout); the caller completes the {@link Dial} exceptionally (or cancels it) when that
 * fires, and the dial closes its channel and reports how far it got ({@link Dial#stage()}: DNS, TCP
 * or TLS) for the error message. Netty's connect timeout and the TLS handler's handshake timeout
 * are turned off so that they do not race it.
 *
 * <p><b>Thread-safety:</b> thread-safe (no mutable state); a dial's callbacks run on the DNS
 * executor, the event loop or the thread that ends it, never under a lock. <b>Ownership:</b>
 * borrows the transport and the DNS executor; a channel is owned by its {@link Dial} until the dial
 * completes successfully, then by the caller.
 */
public final class Dialer {

    /** How far a dial got; what a timeout message names. */
    public enum Stage {
        DNS("resolving the host name"),
        TCP("opening the TCP connection"),
        TLS("the TLS handshake"),
        DONE("after the TLS handshake");

        private final String description;

        Stage(String description) {
            this.description = description;
        }

        /** The stage as a message fragment, e.g. "the TLS handshake". */
        public String description() {
            return description;
        }
    }

    /** How long an address gets before the next one is tried alongside it (RFC 8305 §5: 250 ms recommended). */
    public static final long ATTEMPT_DELAY_MILLIS = 250;

    private final NettyTransport transport;
    private final Executor dnsExecutor;
    private final io.sluice.http.AddressResolver resolver;
    /** The forward proxy, or null for direct connections. */
    private final io.sluice.http.ProxyOptions proxy;

    public Dialer(NettyTransport transport, Executor dnsExecutor) {
        this(transport, dnsExecutor, io.sluice.http.AddressResolver.system(), null);
    }

    /**
     * @param resolver turns host names into the addresses to try (IP literals are used as they are)
     * @param proxy    the forward proxy hosts not on its no-proxy list are reached through, or null
     */
    public Dialer(NettyTransport transport, Executor dnsExecutor, io.sluice.http.AddressResolver resolver,
                  io.sluice.http.ProxyOptions proxy) {
        this.transport = transport;
        this.dnsExecutor = dnsExecutor;
        this.resolver = java.util.Objects.requireNonNull(resolver, "resolver");
        this.proxy = proxy;
    }

    /**
     * Dials {@code host:port}. {@code sslContext} null means cleartext; otherwise the channel gets an
     * {@link SslHandler} named {@code "tls"} (SNI {@code host}; host and port key the TLS session
     * cache, so later connections resume). {@code initializer} adds the caller's handlers behind it
     * when the channel registers, before any byte is read. Every address of the host is tried with
     * Happy Eyeballs (RFC 8305: families interleaved, the next address {@link #ATTEMPT_DELAY_MILLIS}
     * after the previous one unless that failed first, the first TCP connection wins and the others
     * are closed). The dial completes with the channel once TCP is connected and, with TLS, the
     * handshake succeeded; it fails with the last connect's or the handshake's own exception (the
     * caller types it), or a {@link ConnectFailedException} for DNS.
     */
    public Dial dial(String route, String host, int port, SslContext sslContext, Consumer<Channel> initializer) {
        Dial dial = new Dial();
        // Through a proxy, the addresses tried are the proxy's, and the proxy resolves the route's host.
        io.sluice.http.ProxyOptions via = proxy != null && !proxy.bypasses(host) ? proxy : null;
        resolve(via != null ? via.host() : host, via != null ? via.port() : port, dial).whenComplete((addresses, dnsError) -> {
            if (dnsError != null) {
                Throwable cause = dnsError instanceof CompletionException && dnsError.getCause() != null
                        ? dnsError.getCause() : dnsError;
                dial.completeExceptionally(new ConnectFailedException(route, "cannot resolve host: "
                        + cause.getMessage(), cause));
            } else if (!dial.isDone()) {
                try {
                    new Race(dial, interleaveFamilies(addresses), host, port, sslContext, initializer, via).startNext();
                } catch (RuntimeException e) {
                    // e.g. a transport being shut down: fail now rather than leave it to the caller's timer
                    dial.completeExceptionally(e);
                }
            }
        });
        return dial;
    }

    private CompletableFuture<java.util.List<InetSocketAddress>> resolve(String host, int port, Dial dial) {
        if (NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host)) {
            return CompletableFuture.completedFuture(java.util.List.of(
                    new InetSocketAddress(NetUtil.createInetAddressFromIpAddressString(host), port)));
        }
        // Resolvers may block: never on an event loop
        try {
            return CompletableFuture.supplyAsync(() -> {
                if (dial.isDone()) {
                    // Abandoned while queued (timed out, the client closed): a look-up now would only hold a
                    // DNS thread that live connects, maybe another client's on shared resources, are waiting for.
                    throw new CompletionException(new UnknownHostException(host + ": dial abandoned before the look-up"));
                }
                try {
                    java.util.List<InetAddress> found = resolver.resolve(host);
                    if (found == null || found.isEmpty()) {
                        throw new UnknownHostException(host + ": no addresses");
                    }
                    java.util.List<InetSocketAddress> out = new java.util.ArrayList<>(found.size());
                    for (InetAddress a : found) {
                        out.add(new InetSocketAddress(a, port));
                    }
                    return out;
                } catch (UnknownHostException e) {
                    throw new CompletionException(e);
                }
            }, dnsExecutor);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return CompletableFuture.failedFuture(e); // the DNS executor is shut down: the client is closing
        }
    }

    /**
     * RFC 8305 §4: alternate the address families, starting with the family of the resolver's first
     * answer (the JVM's preference, {@code java.net.preferIPv6Addresses}), so that one family being
     * broken costs one attempt delay, not one per address.
     */
    static java.util.List<InetSocketAddress> interleaveFamilies(java.util.List<InetSocketAddress> in) {
        if (in.size() < 2) {
            return in;
        }
        boolean firstIsV6 = in.get(0).getAddress() instanceof java.net.Inet6Address;
        java.util.ArrayDeque<InetSocketAddress> same = new java.util.ArrayDeque<>();
        java.util.ArrayDeque<InetSocketAddress> other = new java.util.ArrayDeque<>();
        for (InetSocketAddress a : in) {
            ((a.getAddress() instanceof java.net.Inet6Address) == firstIsV6 ? same : other).add(a);
        }
        java.util.List<InetSocketAddress> out = new java.util.ArrayList<>(in.size());
        while (!same.isEmpty() || !other.isEmpty()) {
            if (!same.isEmpty()) {
                out.add(same.poll());
            }
            if (!other.isEmpty()) {
                out.add(other.poll());
            }
        }
        return out;
    }

    /**
     * The connection attempts of one dial, one address each: started one by one, the next when the
     * previous failed or has not connected within the attempt delay; the first to connect wins.
     * Guarded by its own monitor; channel callbacks and timers run on the attempts' event loops, and
     * no lock is held while a channel is opened, closed or the dial completed.
     */
    private final class Race {
        private final Dial dial;
        private final java.util.List<InetSocketAddress> order;
        private final String host;
        private final int port;
        private final SslContext sslContext;
        private final Consumer<Channel> initializer;
        /** The proxy each attempt's address belongs to, or null when the addresses are the route's own. */
        private final io.sluice.http.ProxyOptions via;
        /** Every attempt's channel, to close the losers and, when the dial is abandoned, all. Guarded by this. */
        private final java.util.List<Channel> channels = new java.util.ArrayList<>();
        private int next;
        private int inFlight;
        private boolean won;
        private Throwable lastError;

        Race(Dial dial, java.util.List<InetSocketAddress> order, String host, int port, SslContext sslContext,
             Consumer<Channel> initializer, io.sluice.http.ProxyOptions via) {
            this.via = via;
            this.dial = dial;
            dial.viaProxy = via != null;
            this.order = order;
            this.host = host;
            this.port = port;
            this.sslContext = sslContext;
            this.initializer = initializer;
            // A dial that failed, timed out or was cancelled closes every attempt's channel; a completed
            // one's channel is the caller's (the losers were closed when it won).
            dial.whenComplete((c, e) -> {
                if (e != null) {
                    for (Channel ch : snapshot()) {
                        if (ch.isOpen()) {
                            ch.close(); // one whose registration was refused is closed already
                        }
                    }
                }
            });
        }

        private synchronized java.util.List<Channel> snapshot() {
            return new java.util.ArrayList<>(channels);
        }

        /** Starts the next address's attempt, unless one has won, the dial ended, or none is left. */
        void startNext() {
            InetSocketAddress address;
            synchronized (this) {
                if (won || dial.isDone() || next >= order.size()) {
                    return;
                }
                address = order.get(next++);
                inFlight++;
                dial.attempts = next;
            }
            if (dial.connectStartNanos == 0) {
                dial.stage = Stage.TCP;
                dial.connectStartNanos = System.nanoTime();
                dial.connectStartMillis = System.currentTimeMillis();
            }
            ChannelFuture cf;
            try {
                io.netty.bootstrap.Bootstrap b = transport.bootstrap()
                        .option(io.netty.channel.ChannelOption.CONNECT_TIMEOUT_MILLIS, 0); // the caller's one timer bounds it
                if (via != null) {
                    b.resolver(io.netty.resolver.NoopAddressResolverGroup.INSTANCE); // the proxy resolves the route
                }
                cf = b.handler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ch) {
                                if (dial.isDone() && dial.isCompletedExceptionally()) {
                                    // Abandoned before the registration ran: the client may have released its TLS
                                    // context since (a client on shared event loops closes before they do).
                                    ch.close();
                                    return;
                                }
                                if (via != null) {
                                    // First in the pipeline: the TLS handshake and the request wait for the tunnel.
                                    ch.pipeline().addLast("proxy", proxyHandler(via, address));
                                }
                                if (sslContext != null) {
                                    SslHandler ssl;
                                    try {
                                        ssl = sslContext.newHandler(ch.alloc(), host, port);
                                    } catch (io.netty.util.IllegalReferenceCountException released) {
                                        // The caller let go of the context: its attempt ended (timed out, the client
                                        // closed) after the check above, and has had its answer. Not this dial's error.
                                        ch.close();
                                        return;
                                    }
                                    ssl.setHandshakeTimeoutMillis(0); // bounded by the caller's one timer (class comment)
                                    ch.pipeline().addLast("tls", ssl);
                                }
                                initializer.accept(ch);
                            }
                        }).connect(via != null ? InetSocketAddress.createUnresolved(host, port) : address);
            } catch (RuntimeException e) {
                attemptFailed(e);
                return;
            }
            Channel ch = cf.channel();
            boolean late;
            synchronized (this) {
                channels.add(ch);
                late = won; // another attempt won while this one was being opened: it is a loser too
            }
            if (late && ch.isOpen()) {
                ch.close();
            }
            if (dial.channel == null) {
                dial.channel = ch;
            }
            if (dial.isDone() && dial.isCompletedExceptionally() && ch.isOpen()) {
                ch.close(); // abandoned while this attempt was being opened
            }
            java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
            io.netty.util.concurrent.GenericFutureListener<ChannelFuture> onConnect = f -> {
                if (ended.compareAndSet(false, true)) {
                    attemptEnded(ch, f);
                }
            };
            cf.addListener(onConnect);
            if (cf.isDone()) {
                // Netty notifies a listener added to a completed future on the channel's event loop; a loop that is
                // shut down (the client closing) drops the notification, and the dial would never complete. A
                // registration that loop refused fails cf before we get here, so end the attempt here too (once).
                try {
                    onConnect.operationComplete(cf);
                } catch (Exception e) {
                    dial.completeExceptionally(e);
                }
            } else if (hasMore()) {
                try {
                    ch.eventLoop().schedule(() -> {
                        if (!ended.get()) {
                            startNext(); // this address is slow: try the next alongside it
                        }
                    }, ATTEMPT_DELAY_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.RejectedExecutionException closing) {
                    // the loop is shutting down: this attempt ends with it
                }
            }
        }

        private synchronized boolean hasMore() {
            return next < order.size();
        }

        private void attemptEnded(Channel ch, ChannelFuture f) {
            if (!f.isSuccess()) {
                attemptFailed(f.cause());
                return;
            }
            java.util.List<Channel> losers;
            synchronized (this) {
                if (won || dial.isDone()) {
                    losers = java.util.List.of(ch); // another address won, or the dial was abandoned
                } else {
                    won = true;
                    losers = new java.util.ArrayList<>(channels);
                    losers.remove(ch);
                }
            }
            for (Channel loser : losers) {
                loser.close();
            }
            if (losers.contains(ch)) {
                return;
            }
            dial.channel = ch;
            connectEnded(dial, ch, f, sslContext);
        }

        private void attemptFailed(Throwable cause) {
            boolean last;
            synchronized (this) {
                inFlight--;
                lastError = cause;
                last = !won && inFlight == 0 && next >= order.size();
            }
            if (last) {
                dial.completeExceptionally(cause);
            } else {
                startNext(); // a failed address hands over at once (RFC 8305 §5)
            }
        }
    }

    /** Netty's handler for the proxy's protocol, with the credentials; its own timeout off (the caller's timer bounds it). */
    private static io.netty.handler.proxy.ProxyHandler proxyHandler(io.sluice.http.ProxyOptions p, InetSocketAddress at) {
        io.netty.handler.proxy.ProxyHandler h;
        if (p.type() == io.sluice.http.ProxyOptions.Type.HTTP) {
            h = p.username() != null ? new io.netty.handler.proxy.HttpProxyHandler(at, p.username(), p.password())
                    : new io.netty.handler.proxy.HttpProxyHandler(at);
        } else {
            h = p.username() != null ? new io.netty.handler.proxy.Socks5ProxyHandler(at, p.username(), p.password())
                    : new io.netty.handler.proxy.Socks5ProxyHandler(at);
        }
        h.setConnectTimeoutMillis(0);
        return h;
    }

    /** The TCP connect ended: fail the dial, wait for the proxy's tunnel, complete it (cleartext), or wait for TLS. */
    private static void connectEnded(Dial dial, Channel ch, ChannelFuture f, SslContext sslContext) {
        if (!f.isSuccess()) {
            dial.completeExceptionally(f.cause());
            return;
        }
        io.netty.handler.proxy.ProxyHandler proxy = ch.pipeline().get(io.netty.handler.proxy.ProxyHandler.class);
        if (proxy != null && !proxy.isConnected()) {
            proxy.connectFuture().addListener(p -> {
                if (p.isSuccess()) {
                    tunnelReady(dial, ch, sslContext);
                } else {
                    dial.completeExceptionally(p.cause()); // the proxy's refusal, typed by the caller
                }
            });
            return;
        }
        tunnelReady(dial, ch, sslContext);
    }

    /** Connected to the route (directly or through the proxy's tunnel): complete, or wait for the TLS handshake. */
    private static void tunnelReady(Dial dial, Channel ch, SslContext sslContext) {
        dial.transportUpNanos = System.nanoTime();
        if (sslContext == null) {
            dial.stage = Stage.DONE;
            dial.complete(ch);
            return;
        }
        dial.stage = Stage.TLS;
        ch.pipeline().get(SslHandler.class).handshakeFuture().addListener(h -> {
            if (h.isSuccess()) {
                dial.stage = Stage.DONE;
                dial.complete(ch);
            } else {
                dial.completeExceptionally(h.cause());
            }
        });
    }

    /**
     * One dial in progress: completes with the connected (and TLS-handshaken) channel. Cancel it, or
     * complete it exceptionally, to abandon the dial: its channel is closed.
     *
     * <p><b>Thread-safety:</b> a {@link CompletableFuture}; {@link #stage()} and {@link #channel()}
     * are volatile reads of what the event loop or DNS thread last wrote.
     */
    public static final class Dial extends CompletableFuture<Channel> {
        private volatile Stage stage = Stage.DNS;
        private volatile Channel channel;
        private volatile long connectStartNanos;
        private volatile long connectStartMillis;
        /** {@link System#nanoTime()} when the dial began (the look-up's start). */
        private final long startNanos = System.nanoTime();
        /** When TCP (and the proxy's tunnel) was up, the TLS handshake's start; 0 before. */
        private volatile long transportUpNanos;
        /** TCP attempts started, one per address. Written under the race's monitor. */
        private volatile int attempts;
        /** Whether the addresses dialled are a proxy's. */
        private volatile boolean viaProxy;

        /** How far the dial got; what a timeout names. */
        public Stage stage() {
            return stage;
        }

        /** The channel once TCP connecting began, or null while DNS runs. */
        public Channel channel() {
            return channel;
        }

        /** {@link System#nanoTime()} just before the TCP connect (after DNS); 0 before. */
        public long connectStartNanos() {
            return connectStartNanos;
        }

        /** Wall-clock millis just before the TCP connect; 0 before. */
        public long connectStartMillis() {
            return connectStartMillis;
        }

        /** {@link System#nanoTime()} when the dial began, before the look-up. */
        public long startNanos() {
            return startNanos;
        }

        /** {@link System#nanoTime()} when TCP and any proxy tunnel were up (the TLS handshake's start); 0 before. */
        public long transportUpNanos() {
            return transportUpNanos;
        }

        /** Whether the connection goes through a proxy. */
        public boolean viaProxy() {
            return viaProxy;
        }

        /** TCP attempts started so far, one per address tried. */
        public int attempts() {
            return attempts;
        }
    }
}

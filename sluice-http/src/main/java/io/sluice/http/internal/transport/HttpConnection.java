package io.sluice.http.internal.transport;

import io.netty.channel.Channel;
import io.sluice.http.HttpRequest;
import io.sluice.http.Protocol;
import io.sluice.http.Route;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One pooled TCP (or TLS) connection speaking HTTP/1.1 or HTTP/2.
 *
 * <p><b>Thread-safety:</b> {@link #capacity()}, {@link #isBroken()}, {@link #validate()},
 * {@link #start} and {@link #close()} may be called from any thread; the protocol state
 * lives on the channel's event loop and the values the pool reads without I/O are volatile.
 * <b>Ownership:</b> the pool owns the connection and closes it through
 * {@link RouteConnectionManager#close}; a lease holder only starts exchanges on it.
 */
public abstract sealed class HttpConnection permits Http1Connection, Http2Connection {

    private static final AtomicLong IDS = new AtomicLong();

    protected final Route route;
    protected final Channel channel;
    protected final ConnectionObserver observer;
    private final long id = IDS.incrementAndGet();
    private final AtomicLong exchanges = new AtomicLong();

    HttpConnection(Route route, Channel channel, ConnectionObserver observer) {
        this.route = route;
        this.channel = channel;
        this.observer = observer;
    }

    public Route route() {
        return route;
    }

    public abstract Protocol protocol();

    /** Concurrent exchanges this connection takes now; 0 while it may take none. No I/O. */
    public abstract int capacity();

    /** Whether the connection can take no more exchanges (closed, GOAWAY, expired). No I/O. */
    public abstract boolean isBroken();

    /** A liveness round trip: an HTTP/2 PING, or a channel check for HTTP/1.1. */
    public abstract CompletableFuture<Void> validate();

    /**
     * The handle of a new exchange on this connection; nothing is sent until {@link #send}.
     * From any thread. {@code reused} in the handle tells whether this connection had served an
     * exchange before. Split from {@link #send} so that a caller on the event loop holds the
     * handle before any callback can run, without a second hop onto the loop.
     */
    public final Exchange exchange(HttpRequest request, ExchangeListener listener) {
        boolean reused = exchanges.getAndIncrement() > 0;
        return newExchange(request, listener, reused);
    }

    /**
     * Sends {@code exchange} (made by this connection's {@link #exchange}). Must be called on
     * this connection's event loop. Never throws: a failure before the first frame (cancelled,
     * GOAWAY, connection closed, stream limit) reaches {@code listener.onFailure} before this
     * returns; every other callback runs later, on the loop.
     */
    public final void send(Exchange exchange) {
        if (!channel.eventLoop().inEventLoop()) {
            throw new IllegalStateException("send must run on the connection's event loop");
        }
        begin(exchange);
    }

    abstract Exchange newExchange(HttpRequest request, ExchangeListener listener, boolean reused);

    /** Writes the exchange's request, on the event loop. */
    abstract void begin(Exchange exchange);

    /**
     * Closes the channel; open exchanges fail. Idempotent. The pool closes a connection physically only when it is
     * done with it (no lease left, or the client closing, or a grace period over), so the socket is closed now: the
     * pipeline's close is tried first (HTTP/2's GOAWAY, TLS's close_notify), and when it did not close the socket at
     * once the socket is closed under it. Netty's HTTP/2 handler waits for the active streams on a timer (even a
     * 0 ms one) and TLS for its close_notify's flush; the client closes its event loops right after its pools, and a
     * shutting-down event loop cancels its timers (and, with no quiet period, may terminate without closing its
     * channels): the socket stayed open and its exchanges never heard
     * ({@code CallbackCloseAdversaryTest}, about 1 close in 6 with two streams in flight).
     */
    public void close() {
        io.netty.channel.EventLoop loop = channel.eventLoop();
        if (loop.inEventLoop()) {
            closeOnLoop();
            return;
        }
        try {
            loop.execute(this::closeOnLoop);
        } catch (java.util.concurrent.RejectedExecutionException terminated) {
            // The loop has terminated (only when shared resources were closed before a client using them, which the
            // docs forbid): nothing can run on it any more, and Netty does not always close a loop's channels as it
            // terminates. Closing the socket is all that is left; its exchanges cannot be told.
            channel.unsafe().closeForcibly();
        }
    }

    private void closeOnLoop() {
        channel.close();
        if (channel.isOpen()) {
            io.netty.handler.ssl.SslHandler ssl = channel.pipeline().get(io.netty.handler.ssl.SslHandler.class);
            if (ssl != null) {
                ssl.closeOutbound(); // close_notify: HTTP/2's close kept for its timer never reached the SslHandler
            }
            channel.unsafe().close(channel.voidPromise()); // fires channelInactive: every open exchange fails
        }
    }

    /** The Netty channel, for diagnostics and tests. */
    public Channel channel() {
        return channel;
    }

    /** What this connection negotiated, as a snapshot for diagnostics. */
    public io.sluice.http.ConnectionInfo info() {
        String tlsVersion = null;
        String cipher = null;
        io.netty.handler.ssl.SslHandler ssl = channel.pipeline().get(io.netty.handler.ssl.SslHandler.class);
        if (ssl != null) {
            javax.net.ssl.SSLSession session = ssl.engine().getSession();
            tlsVersion = session.getProtocol();
            cipher = session.getCipherSuite();
        }
        int peerMax = this instanceof Http2Connection h2 && h2.peerMaxConcurrentStreams() != Integer.MAX_VALUE
                ? h2.peerMaxConcurrentStreams() : -1;
        return new io.sluice.http.ConnectionInfo(route, protocol(), tlsVersion, cipher, peerMax, capacity(),
                exchanges.get(), hostPort(channel.localAddress()), hostPort(channel.remoteAddress()));
    }

    /** How the connection was opened; set once, before the pool sees the connection. */
    private volatile io.sluice.http.ConnectionSetup setup;
    /** Set by the first call that takes this connection and asks (only calls with a listener ask). */
    private final java.util.concurrent.atomic.AtomicBoolean firstUseClaimed = new java.util.concurrent.atomic.AtomicBoolean();

    void setup(io.sluice.http.ConnectionSetup s) {
        this.setup = s;
    }

    /** How the connection was opened, or null for one made outside the client's connector (tests). */
    public io.sluice.http.ConnectionSetup setup() {
        return setup;
    }

    /** True for the first caller only: the call that is first to use this connection. */
    public boolean claimFirstUse() {
        return firstUseClaimed.compareAndSet(false, true);
    }

    /** Exchanges started on this connection so far. */
    public long exchangeCount() {
        return exchanges.get();
    }

    /** Set once, by whoever first accounts for this connection's end (a passive-detection count or the pool's close). */
    private final java.util.concurrent.atomic.AtomicBoolean endAccounted = new java.util.concurrent.atomic.AtomicBoolean();

    /** True for the first caller only: the one that accounts for how this connection ended. */
    final boolean claimEndAccounting() {
        return endAccounted.compareAndSet(false, true);
    }

    protected final void notifyChanged() {
        observer.connectionChanged(this);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "#" + id + "[" + route + ", " + channel.localAddress() + "]";
    }

    /**
     * {@code 127.0.0.1:8443} or {@code [::1]:8443}: the IP literal and port, as a person writes an
     * address ({@link java.net.InetSocketAddress#toString()} gives {@code localhost/127.0.0.1:8443},
     * or {@code /127.0.0.1:8443} without a host name); IPv6 in RFC 5952's short form without a scope
     * id. An unresolved address shows its host name. The IP rather than the host name for a resolved
     * address, because the route already names the host and the IP is what tells two of its
     * connections apart.
     */
    static String hostPort(java.net.SocketAddress address) {
        if (!(address instanceof java.net.InetSocketAddress a)) {
            return String.valueOf(address);
        }
        return io.netty.util.NetUtil.toSocketAddressString(a);
    }
}

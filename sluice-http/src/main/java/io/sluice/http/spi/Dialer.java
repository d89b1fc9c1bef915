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

    private final NettyTransport transport;
    private final Executor dnsExecutor;

    public Dialer(NettyTransport transport, Executor dnsExecutor) {
        this.transport = transport;
        this.dnsExecutor = dnsExecutor;
    }

    /**
     * Dials {@code host:port}. {@code sslContext} null means cleartext; otherwise the channel gets an
     * {@link SslHandler} named {@code "tls"} (SNI {@code host}; host and port key the TLS session
     * cache, so later connections resume). {@code initializer} adds the caller's handlers behind it
     * when the channel registers, before any byte is read. The dial completes with the channel once
     * TCP is connected and, with TLS, the handshake succeeded; it fails with the connect's or the
     * handshake's own exception (the caller types it), or a {@link ConnectFailedException} for DNS.
     */
    public Dial dial(String route, String host, int port, SslContext sslContext, Consumer<Channel> initializer) {
        Dial dial = new Dial();
        resolve(host, port).whenComplete((address, dnsError) -> {
            if (dnsError != null) {
                Throwable cause = dnsError instanceof CompletionException && dnsError.getCause() != null
                        ? dnsError.getCause() : dnsError;
                dial.completeExceptionally(new ConnectFailedException(route, "cannot resolve host: "
                        + cause.getMessage(), cause));
            } else if (!dial.isDone()) {
                try {
                    open(dial, address, host, port, sslContext, initializer);
                } catch (RuntimeException e) {
                    // e.g. a transport being shut down: fail now rather than leave it to the caller's timer
                    dial.completeExceptionally(e);
                }
            }
        });
        return dial;
    }

    private CompletableFuture<InetSocketAddress> resolve(String host, int port) {
        if (NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host)) {
            return CompletableFuture.completedFuture(
                    new InetSocketAddress(NetUtil.createInetAddressFromIpAddressString(host), port));
        }
        // InetAddress blocks: never on an event loop
        try {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    return new InetSocketAddress(InetAddress.getByName(host), port);
                } catch (UnknownHostException e) {
                    throw new CompletionException(e);
                }
            }, dnsExecutor);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return CompletableFuture.failedFuture(e); // the DNS executor is shut down: the client is closing
        }
    }

    private void open(Dial dial, InetSocketAddress address, String host, int port, SslContext sslContext,
                      Consumer<Channel> initializer) {
        dial.stage = Stage.TCP;
        dial.connectStartNanos = System.nanoTime();
        dial.connectStartMillis = System.currentTimeMillis();
        ChannelFuture cf = transport.bootstrap()
                .option(io.netty.channel.ChannelOption.CONNECT_TIMEOUT_MILLIS, 0) // the caller's one timer bounds it
                .handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                if (sslContext != null) {
                    SslHandler ssl = sslContext.newHandler(ch.alloc(), host, port);
                    ssl.setHandshakeTimeoutMillis(0); // bounded by the caller's one timer (class comment)
                    ch.pipeline().addLast("tls", ssl);
                }
                initializer.accept(ch);
            }
        }).connect(address);
        Channel ch = cf.channel();
        dial.channel = ch;
        // A dial that failed, timed out or was cancelled closes its channel; a completed one is the caller's.
        dial.whenComplete((c, e) -> {
            if (e != null && ch.isOpen()) {
                ch.close(); // one whose registration was refused is closed already, and has no loop to close on
            }
        });
        java.util.concurrent.atomic.AtomicBoolean connectEnded = new java.util.concurrent.atomic.AtomicBoolean();
        io.netty.util.concurrent.GenericFutureListener<ChannelFuture> onConnect = f -> {
            if (connectEnded.compareAndSet(false, true)) {
                connectEnded(dial, ch, f, sslContext);
            }
        };
        cf.addListener(onConnect);
        if (cf.isDone()) {
            // Netty notifies a listener added to a completed future on the channel's event loop; a loop that is
            // shut down (the client closing) drops the notification, and the dial would never complete. A
            // registration that loop refused fails cf before we get here, so end the dial here too (once).
            try {
                onConnect.operationComplete(cf);
            } catch (Exception e) {
                dial.completeExceptionally(e);
            }
        }
    }

    /** The TCP connect ended: fail the dial, complete it (cleartext), or wait for the TLS handshake. */
    private static void connectEnded(Dial dial, Channel ch, ChannelFuture f, SslContext sslContext) {
        if (!f.isSuccess()) {
            dial.completeExceptionally(f.cause());
            return;
        }
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
    }
}

package io.sluice.http.internal.transport;

import io.sluice.http.spi.Dialer;
import io.sluice.http.spi.NettyTransport;
import io.sluice.http.spi.TlsFailures;
import io.netty.channel.Channel;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.sluice.http.ConnectFailedException;
import io.sluice.http.RequestTimeoutException;
import io.sluice.http.Route;
import io.sluice.http.SluiceHttpException;
import io.sluice.pool.ConnectionManager;
import io.sluice.pool.ConnectionEvents;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool's SPI for one route: opens TCP (and TLS) connections, lets ALPN (or the h2c
 * prior-knowledge setting on {@code http://}) pick HTTP/2 or HTTP/1.1, and answers the
 * pool's capacity and health questions from the connection's volatile state.
 *
 * <p>{@link #connect} is one attempt (the pool retries): a {@link Dialer} opens the channel
 * (DNS, TCP, TLS), then ALPN picks the protocol. <b>Timeout owner:</b> the attempt is bounded
 * once, by one timer here that runs for the connect timeout ({@code Timeouts.connect}) over DNS,
 * TCP, the TLS handshake and, for HTTP/2, the peer's first SETTINGS; its error names the stage
 * that ran out. Nothing else times the attempt: the dialer arms no timer, Netty's connect timeout
 * and the TLS handler's handshake timeout are off, and {@link #boundsConnect()} tells the pool
 * to arm none ({@code PoolConfig.connectionTimeout} bounds only how long a caller waits). A
 * cancel of the returned stage ends the attempt too and closes its channel.
 * Failures are typed: {@link RequestTimeoutException} (CONNECT),
 * {@link io.sluice.http.TlsFailedException} with a reason, or {@link ConnectFailedException}.
 * DNS look-ups of names run on a separate executor, never on an event loop.
 *
 * <p><b>Thread-safety:</b> thread-safe. <b>Ownership:</b> connections it returns belong
 * to the pool, which closes them through {@link #close(HttpConnection)}; the transport,
 * TLS context and executors are borrowed from the client.
 */
public final class RouteConnectionManager implements ConnectionManager<HttpConnection> {

    private static final Logger LOG = LoggerFactory.getLogger(RouteConnectionManager.class);

    private final Route route;
    private final Dialer dialer;
    /** The client's TLS contexts (the current one changes on reload); null for a cleartext route. */
    private final TlsContexts tls;
    private final TransportSettings settings;
    private final ScheduledExecutorService scheduler;
    /** Set once by {@link #clientClosing()}; read by whichever thread ends an attempt. */
    private volatile boolean clientClosing;
    private final HandshakeRecorder handshakes;
    /** Connections handed to the pool and not yet closed by it, for {@link #connections()}. */
    private final java.util.Set<HttpConnection> live = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** With one fixed TLS context (owned by the caller), or null for a cleartext route. */
    public RouteConnectionManager(Route route, NettyTransport transport, SslContext sslContext,
                                  TransportSettings settings, ScheduledExecutorService scheduler, Executor dnsExecutor,
                                  HandshakeRecorder handshakes) {
        this(route, transport, sslContext == null ? null : TlsContexts.fixed(sslContext), settings, scheduler,
                dnsExecutor, handshakes, io.sluice.http.AddressResolver.system(), null);
    }

    /** With the client's TLS contexts (owned by the client; each connect uses the one current then), or null. */
    public RouteConnectionManager(Route route, NettyTransport transport, TlsContexts tls,
                                  TransportSettings settings, ScheduledExecutorService scheduler, Executor dnsExecutor,
                                  HandshakeRecorder handshakes, io.sluice.http.AddressResolver resolver,
                                  io.sluice.http.ProxyOptions proxy) {
        if (route.secure() && tls == null) {
            throw new IllegalArgumentException("an https route needs a TLS context");
        }
        this.route = route;
        this.dialer = new Dialer(transport, dnsExecutor, resolver, proxy);
        this.tls = route.secure() ? tls : null;
        this.settings = settings;
        this.scheduler = scheduler;
        this.handshakes = handshakes;
    }

    public Route route() {
        return route;
    }

    /**
     * Hears, once per connection, that a pooled connection broke between or during requests
     * (passive detection), with the reason: {@code goaway}, {@code closed} (peer close or I/O
     * error) or {@code other} (protocol error, PING timeout, stream ids exhausted).
     * Connections the pool closes itself are not reported.
     */
    public void onBroken(java.util.function.BiConsumer<HttpConnection, String> listener) {
        this.brokenListener = listener;
    }

    private volatile java.util.function.BiConsumer<HttpConnection, String> brokenListener;

    /**
     * A connection's capacity or health changed: reports a break to the {@link #onBroken}
     * listener (once per connection), then tells the pool through the events it gave with the
     * connect.
     */
    private void connectionChanged(HttpConnection connection, ConnectionEvents<HttpConnection> events) {
        java.util.function.BiConsumer<HttpConnection, String> l = brokenListener;
        if (l != null && connection.isBroken() && connection.claimEndAccounting()) {
            String reason = connection instanceof Http2Connection h2 && h2.goAwayReceived() ? "goaway"
                    : !connection.channel().isActive() ? "closed" : "other";
            l.accept(connection, reason);
        }
        events.changed(connection);
    }

    @Override
    public CompletionStage<HttpConnection> connect(ConnectionEvents<HttpConnection> events) {
        ConnectionObserver observer = c -> connectionChanged(c, events);
        CompletableFuture<HttpConnection> result = new CompletableFuture<>();
        // A hold on the context for as long as this attempt runs (released when it ends, below): a reload from
        // now on reaches the next connect, and the context this one took is not released under it.
        TlsContexts.Ref tlsHold;
        try {
            tlsHold = tls == null ? null : tls.acquire();
        } catch (io.sluice.http.ClientClosedException closed) {
            result.completeExceptionally(closedWhileConnecting("before it started", closed));
            return result;
        }
        SslContext sslContext = tlsHold == null ? null : tlsHold.context();
        if (tlsHold != null) {
            // Released when the attempt ends. A dial abandoned at that moment may be making its engine on its event
            // loop; Dialer closes such a channel if the context went meanwhile, and its caller already has its answer.
            result.whenComplete((c, e) -> tlsHold.release());
        }
        Dialer.Dial dial = dialer.dial(route.toString(), route.host(), route.port(), sslContext, ch -> {
            // The server may speak first (h2c's or h2's SETTINGS), and the protocol's handlers are added
            // only when the dial's completion has been handled, possibly a task later: read nothing past
            // the TLS handshake until they are in (SslHandler still reads what its handshake needs;
            // installProtocol turns reading back on), so no byte reaches the pipeline's tail and is dropped.
            ch.config().setAutoRead(false);
            if (sslContext != null) {
                // until the protocol's handlers are in: a failed handshake's error ends here, not at the tail
                ch.pipeline().addLast(PreProtocolHandler.NAME, new PreProtocolHandler());
            }
        });
        // The attempt's one timer: DNS, TCP, TLS and (HTTP/2) the server's first SETTINGS; it closes the
        // channel and names the stage that ran out.
        java.util.concurrent.ScheduledFuture<?> timer;
        try {
            timer = scheduler.schedule(() -> {
                Dialer.Stage stage = dial.stage();
                RequestTimeoutException timeout = new RequestTimeoutException(route.toString(),
                        RequestTimeoutException.Phase.CONNECT, settings.connectTimeout(), "during " + (stage
                        == Dialer.Stage.DONE ? "the HTTP/2 connection preface" : stage.description()), null);
                // Counted only when the timeout ends the attempt: a handshake that failed or was cancelled
                // just before is counted (or not) where it ended.
                if (result.completeExceptionally(timeout) && stage == Dialer.Stage.TLS) {
                    handshakes.recordFailure();
                }
                dial.completeExceptionally(timeout);
            }, settings.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            // The client is closing (its scheduler is shut down): an attempt without its one deadline must not start.
            // The client's doing, not the route's: not counted against it.
            io.sluice.http.ClientClosedException e = closedWhileConnecting("before its connect timer was set", closing);
            dial.completeExceptionally(e);
            result.completeExceptionally(e);
            return result;
        }
        result.whenComplete((c, e) -> {
            timer.cancel(false);
            if (e != null) {
                dial.completeExceptionally(e); // closes the channel if the dial is still going
                Channel ch = dial.channel();
                if (ch != null) {
                    ch.close(); // the dial may have completed already: the protocol set-up failed or timed out
                }
            }
        });
        dial.whenComplete((ch, e) -> {
            if (e == null && !ch.eventLoop().inEventLoop()) {
                // The dial completed before this was registered, so this runs on the registering thread;
                // the protocol is set up on the channel's loop, as its handlers require.
                try {
                    ch.eventLoop().execute(() -> dialed(ch, null, dial, result, observer));
                } catch (java.util.concurrent.RejectedExecutionException rejected) {
                    result.completeExceptionally(closedWhileConnecting("after the dial (its event loop is shut down)",
                            rejected));
                }
                return;
            }
            dialed(ch, e, dial, result, observer);
        });
        return result;
    }

    /** The dial ended: set the protocol up on its channel, or fail the attempt. On the channel's loop when it succeeded. */
    private void dialed(Channel ch, Throwable e, Dialer.Dial dial, CompletableFuture<HttpConnection> result,
                        ConnectionObserver observer) {
        if (e != null) {
            if (!result.isDone()) {
                // Not when the attempt already ended (timed out, cancelled by the pool, client closing): the dial
                // failed because of that, and a TLS failure counted here would be one the server never caused.
                // Counted only when this ends the attempt: the timer may win the race and counts its own.
                Dialer.Stage stage = dial.stage();
                SluiceHttpException failure = mapConnectError(e, stage);
                if (result.completeExceptionally(failure) && stage == Dialer.Stage.TLS
                        && !(failure instanceof io.sluice.http.ClientClosedException) && !(e instanceof SluiceHttpException)) {
                    handshakes.recordFailure();
                }
            }
        } else if (tls == null) {
            installProtocol(ch, settings.h2cPriorKnowledge(), result, observer, new SetupClock(dial, 0, false));
        } else {
            SslHandler ssl = ch.pipeline().get(SslHandler.class);
            // The handshake alone: from the transport being up (after Happy Eyeballs' delays and any tunnel).
            long tlsNanos = System.nanoTime() - dial.transportUpNanos();
            boolean resumed = handshakes.record(ssl.engine(), dial.connectStartMillis(), tlsNanos);
            String alpn = ssl.applicationProtocol();
            LOG.debug("{}: TLS {} handshake, {} {}, ALPN {}", route, resumed ? "resumed" : "full",
                    ssl.engine().getSession().getProtocol(), ssl.engine().getSession().getCipherSuite(), alpn);
            installProtocol(ch, ApplicationProtocolNames.HTTP_2.equals(alpn), result, observer,
                    new SetupClock(dial, tlsNanos, resumed));
        }
    }

    /** What a connect measured up to the protocol's set-up, for the {@link io.sluice.http.ConnectionSetup} of its connection. */
    private record SetupClock(Dialer.Dial dial, long tlsNanos, boolean resumed) {
        io.sluice.http.ConnectionSetup finish(Channel ch) {
            long up = dial.transportUpNanos();
            long connectStart = dial.connectStartNanos();
            return new io.sluice.http.ConnectionSetup(connectStart - dial.startNanos(), up - connectStart, tlsNanos,
                    resumed, dial.attempts(), System.nanoTime() - dial.startNanos(),
                    HttpConnection.hostPort(ch.remoteAddress()), dial.viaProxy());
        }
    }

    private void installProtocol(Channel ch, boolean h2, CompletableFuture<HttpConnection> result,
                                 ConnectionObserver observer, SetupClock clock) {
        try {
            doInstallProtocol(ch, h2, result, observer, clock);
            if (!ch.config().isAutoRead()) {
                ch.config().setAutoRead(true); // reads what the server sent first, now that a handler takes it
            }
        } catch (RuntimeException e) {
            result.completeExceptionally(new ConnectFailedException(route.toString(),
                    "cannot set up the " + (h2 ? "HTTP/2" : "HTTP/1.1") + " pipeline: " + e, e));
            ch.close();
        }
    }

    private void doInstallProtocol(Channel ch, boolean h2, CompletableFuture<HttpConnection> result,
                                   ConnectionObserver observer, SetupClock clock) {
        if (result.isDone()) {
            ch.close();
            return;
        }
        if (!h2) {
            Http1Connection c = Http1Connection.install(ch, route, settings, observer);
            passHeldBytesOn(ch);
            handOver(c, result, clock);
            return;
        }
        CompletableFuture<Http2Connection> installed = Http2Connection.install(ch, route, settings, observer, scheduler);
        passHeldBytesOn(ch); // the server's SETTINGS may have come with the handshake's last flight
        installed.whenComplete((c, e) -> {
            if (e != null) {
                // TLS 1.3: a server that refuses our certificate says so after our side of the handshake ended
                result.completeExceptionally(TlsFailures.isTlsFailure(e) ? TlsFailures.classify(route.toString(), e)
                        : new ConnectFailedException(route.toString(),
                        "HTTP/2 connection closed before the server's SETTINGS", e));
            } else {
                handOver(c, result, clock);
            }
        });
    }

    /**
     * Removes the {@link PreProtocolHandler} now that the protocol's handlers are behind it: what it held
     * (bytes that came with the TLS handshake's last flight) goes on to them.
     */
    private static void passHeldBytesOn(Channel ch) {
        if (ch.pipeline().get(PreProtocolHandler.NAME) != null) {
            ch.pipeline().remove(PreProtocolHandler.NAME);
        }
    }

    /** Gives a new connection to the pool, or closes it when the attempt already ended (timed out). */
    private void handOver(HttpConnection c, CompletableFuture<HttpConnection> result, SetupClock clock) {
        c.setup(clock.finish(c.channel()));
        live.add(c);
        if (!result.complete(c)) {
            live.remove(c);
            c.channel().close();
        }
    }

    /** What the open connections of this route negotiated, as snapshots. */
    public java.util.List<io.sluice.http.ConnectionInfo> connections() {
        return live.stream().filter(c -> c.channel().isActive()).map(HttpConnection::info).toList();
    }

    private SluiceHttpException mapConnectError(Throwable cause, Dialer.Stage stage) {
        if (cause instanceof SluiceHttpException s) {
            return s; // DNS failures and our own timeout are typed already
        }
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof io.netty.handler.proxy.ProxyConnectException p) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("status: (\\d{3})").matcher(
                        String.valueOf(p.getMessage()));
                int status = m.find() ? Integer.parseInt(m.group(1)) : -1;
                return new io.sluice.http.ProxyFailedException(route.toString(), "the proxy did not open a tunnel: "
                        + p.getMessage(), status, p);
            }
        }
        if (clientClosing) {
            return new io.sluice.http.ClientClosedException(route.toString(),
                    "the client was closed while connecting (" + stage.description() + ")");
        }
        if (stage == Dialer.Stage.TLS) {
            return TlsFailures.classify(route.toString(), cause);
        }
        if (cause instanceof ConnectTimeoutException) {
            return new RequestTimeoutException(route.toString(), RequestTimeoutException.Phase.CONNECT,
                    settings.connectTimeout(), cause);
        }
        return new ConnectFailedException(route.toString(), "connect failed: " + cause.getMessage(), cause);
    }

    /** An attempt the closing client's own executors refused: the client's doing, never the route's. */
    private io.sluice.http.ClientClosedException closedWhileConnecting(String when, Throwable cause) {
        return new io.sluice.http.ClientClosedException(route.toString(),
                "the client was closed while connecting (" + when + ")", cause);
    }

    /**
     * The client is closing: attempts that fail from now on failed because their channels are being
     * closed, not because of the server, so they end with {@link io.sluice.http.ClientClosedException}
     * and count no TLS failure. Called by the client's close, before it closes pools and event loops.
     */
    public void clientClosing() {
        clientClosing = true;
    }

    /** True: {@link #connect}'s own timer is the attempt's one deadline (class comment). */
    @Override
    public boolean boundsConnect() {
        return true;
    }

    @Override
    public CompletionStage<Void> validate(HttpConnection connection) {
        return connection.validate();
    }

    @Override
    public boolean hasBroken(HttpConnection connection) {
        return connection.isBroken();
    }

    /**
     * Before any connection exists: an HTTPS route whose ALPN offers {@code h2}, or an h2c
     * route, most likely multiplexes up to our stream cap, so the first burst opens one
     * connection instead of one per request; a plain HTTP/1.1 route takes one lease each.
     */
    @Override
    @SuppressWarnings("deprecation") // applicationProtocolNegotiator() is the only way to read the offered ALPN ids
    public int expectedCapacity() {
        boolean h2 = route.secure()
                ? tls.current().applicationProtocolNegotiator().protocols().contains(ApplicationProtocolNames.HTTP_2)
                : settings.h2cPriorKnowledge();
        return h2 ? settings.http2().maxConcurrentStreams() : 1;
    }

    @Override
    public int capacity(HttpConnection connection) {
        return connection.capacity();
    }

    @Override
    public void close(HttpConnection connection) {
        LOG.debug("{}: pool closes {}", route, connection);
        connection.claimEndAccounting(); // closed by the pool: not a passive detection
        live.remove(connection);
        connection.close();
    }
}

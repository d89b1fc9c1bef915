package io.sluice.http;

import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.sluice.http.internal.client.Call;
import io.sluice.http.internal.client.ClientContext;
import io.sluice.http.internal.client.Errors;
import io.sluice.http.retry.StatusRetryPolicy;
import io.sluice.http.internal.transport.HandshakeRecorder;
import io.sluice.http.internal.transport.HttpConnection;
import io.sluice.http.spi.NettyTransport;
import io.sluice.http.internal.transport.RouteConnectionManager;
import io.sluice.http.spi.SslContextFactory;
import io.sluice.http.internal.transport.TransportSettings;
import io.sluice.pool.Pool;
import io.sluice.pool.PoolConfig;
import io.sluice.pool.PoolStats;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP client: one connection pool per route (scheme, host, port), created on first
 * use and kept until {@link #close()}, over one shared Netty event loop group, one TLS
 * context (so sessions resume across connections) and one scheduler.
 *
 * <pre>{@code
 * try (ConnectionPoolManager client = ConnectionPoolManager.builder().build()) {
 *     HttpResponse r = client.sendBlocking(HttpRequest.newBuilder("https://api.openai.com/v1/models")
 *             .header("authorization", "Bearer " + key).build());
 *     try (StreamingResponse s = client.streamBlocking(chatRequest)) {
 *         for (SseEvent e; (e = s.nextEventBlocking()) != null; ) { ... }
 *     }
 * }
 * }</pre>
 *
 * <p>HTTPS routes negotiate HTTP/2 or HTTP/1.1 by ALPN; {@code http://} routes speak
 * HTTP/1.1, or HTTP/2 with prior knowledge when {@link Builder#h2cPriorKnowledge} is set.
 * Retries, timeouts and limits are described on {@link Builder} and in {@code docs/http.md}.
 *
 * <p><b>Thread-safety:</b> thread-safe; share one instance. Futures complete on the
 * callback executor (the client's own threads unless configured), never on an I/O thread.
 * <b>Ownership:</b> owns its event loops, scheduler, pools and connections; {@link #close()}
 * closes them all and fails requests in flight with {@link ClientClosedException};
 * {@link #closeGracefully(Duration)} lets them finish first. A
 * {@link StreamingResponse} holds a pool slot until read to its end or closed.
 */
public final class ConnectionPoolManager implements AutoCloseable {

    private final PoolConfig poolConfig;
    private final TransportSettings transportSettings;
    private final ClientContext context;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ConnectionPoolManager.class);
    private final NettyTransport transport;
    /** The TLS context new connections use; replaced by {@link #reloadTls()}. Owned: closed with the client. */
    private final io.sluice.http.internal.transport.TlsContexts tls;
    private final ScheduledThreadPoolExecutor scheduler;
    private final ExecutorService dns;
    /** Host names to addresses, for every new connection. */
    private final AddressResolver resolver;
    /** The forward proxy, or null. */
    private final ProxyOptions proxy;
    /** Run once per call on the caller's thread, in order. */
    private final List<RequestInterceptor> callInterceptors;
    /** The threads this client runs on (event loops, timer, DNS, callbacks). */
    private final SluiceResources resources;
    /** True when this client made {@link #resources} itself and closes them with itself; false when shared. */
    private final boolean ownsResources;
    /** The scheduled TLS reload, cancelled at close (on shared resources the timer outlives this client). */
    private final java.util.concurrent.ScheduledFuture<?> tlsReloadTask;
    private final HandshakeRecorder handshakes = new HandshakeRecorder();
    private final ConcurrentHashMap<Route, Pool<HttpConnection>> pools = new ConcurrentHashMap<>();
    /** Each route's connection manager (created with its pool), for {@link #connections(Route)}. */
    private final ConcurrentHashMap<Route, RouteConnectionManager> managers = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Route, io.sluice.http.internal.client.RouteGuard> guards = new ConcurrentHashMap<>();
    /** Shared by every route; null when outlier ejection is off. */
    private final io.sluice.pool.health.OutlierDetector outliers;
    private volatile boolean closed;
    /** Won by the one {@link #close()} that closes; others return at once. */
    private final java.util.concurrent.atomic.AtomicBoolean closeStarted = new java.util.concurrent.atomic.AtomicBoolean();
    /** Completed once, when that close has finished: the futures {@link #closeGracefully} hands out are copies. */
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    /** The graceful close's timeout; cancelled by the close (on shared resources the timer outlives this client). */
    private volatile java.util.concurrent.ScheduledFuture<?> drainTimer;
    /** Set when the drain's end has started the close on a thread of its own (its last call and its timeout race). */
    private final java.util.concurrent.atomic.AtomicBoolean closerStarted = new java.util.concurrent.atomic.AtomicBoolean();

    private ConnectionPoolManager(Builder b) {
        this.poolConfig = b.poolConfig;
        Timeouts t = b.timeouts != null ? b.timeouts
                : new Timeouts(poolConfig.connectionTimeout(), Timeouts.defaults().headers(),
                Timeouts.defaults().bodyIdle(), null);
        this.transportSettings = new TransportSettings(b.limits, b.http2, b.h2cPriorKnowledge, t.connect(),
                b.decompress);
        this.resolver = b.resolver;
        this.proxy = b.proxy;
        if (b.resources != null) {
            if (b.resources.isClosed()) {
                throw new IllegalStateException("the shared SluiceResources are closed");
            }
            this.resources = b.resources;
            this.ownsResources = false;
        } else {
            SluiceResources.Builder r = SluiceResources.builder().ioThreads(b.ioThreads)
                    .preferNativeTransport(b.preferNativeTransport);
            if (b.callbackExecutor != null) {
                r.callbackExecutor(b.callbackExecutor);
            }
            this.resources = r.build();
            this.ownsResources = true;
        }
        this.scheduler = resources.scheduler;
        this.dns = resources.dns;
        this.transport = resources.transport;
        TlsOptions tlsOptions = b.tls;
        boolean http1Only = b.http1Only;
        // A replaced context stays until the last connect that took it has ended (TlsContexts counts them).
        try {
            this.tls = new io.sluice.http.internal.transport.TlsContexts(() -> http1Only
                    ? SslContextFactory.build(tlsOptions, io.netty.handler.ssl.ApplicationProtocolNames.HTTP_1_1)
                    : SslContextFactory.build(tlsOptions));
        } catch (RuntimeException e) {
            if (ownsResources) {
                resources.close(); // unreadable TLS material: no threads left behind by a client never built
            }
            throw e;
        }
        if (b.tlsReloadInterval != null) {
            long every = b.tlsReloadInterval.toMillis();
            this.tlsReloadTask = scheduler.scheduleWithFixedDelay(this::reloadTlsOnSchedule, every, every,
                    TimeUnit.MILLISECONDS);
        } else {
            this.tlsReloadTask = null;
        }
        this.outliers = b.outlierDetection == null ? null
                : new io.sluice.pool.health.OutlierDetector(b.outlierDetection, System::nanoTime);
        this.context = new ClientContext(t, b.limits, b.statusRetryPolicy, scheduler,
                resources.callbacks, poolConfig.connectionTimeout(),
                new io.sluice.http.internal.client.DelayedAttempts(), b.decompress, List.copyOf(b.attemptInterceptors),
                List.copyOf(b.callListeners), new java.util.concurrent.atomic.AtomicBoolean(), b.admission,
                new io.sluice.http.internal.client.CallsInFlight(this::closeInBackground));
        this.callInterceptors = List.copyOf(b.callInterceptors);
        if (LOG.isDebugEnabled()) {
            LOG.debug("sluice client {}: transport {}, TLS engine {}, {} threads", implementationVersion(),
                    transportName(), tlsProvider(), ownsResources ? "own" : "shared");
        }
    }

    /** This build's version from the jar's manifest, or "(development build)" when run from classes. */
    static String implementationVersion() {
        String v = ConnectionPoolManager.class.getPackage().getImplementationVersion();
        return v != null ? v : "(development build)";
    }

    /** A builder holding the defaults (see {@link Builder}). */
    public static Builder builder() {
        return new Builder();
    }

    // ------------------------------------------------------------------ requests

    /**
     * Sends the request and reads the whole response. Completes with the response (error
     * statuses included, after status retries) or fails with a {@link SluiceHttpException}.
     */
    public CompletableFuture<HttpResponse> send(HttpRequest request) {
        // Aggregated on the event loop, completed once on the callback executor (docs/http.md "Layers").
        return start(request, Call::startAggregated);
    }

    /**
     * Sends the request; completes when the response head arrives, with the body still
     * streaming. The caller must read the body to its end or close the response.
     */
    public CompletableFuture<StreamingResponse> stream(HttpRequest request) {
        return start(request, Call::start);
    }

    /** {@link Call#start} or {@link Call#startAggregated}. */
    @FunctionalInterface
    private interface Starter<T> {
        CompletableFuture<T> start(Pool<HttpConnection> pool, String route, HttpRequest request, ClientContext ctx,
                                   io.sluice.http.internal.client.RouteGuard guard);
    }

    /**
     * What {@link #send} and {@link #stream} share. The call is counted before anything else, so that a graceful
     * close that has begun refuses it here, before a pool is made or a byte sent, and one that begins later waits
     * for it. Until the {@link Call} exists every way out gives the count back; from then on the call does, when it
     * ends.
     */
    private <T> CompletableFuture<T> start(HttpRequest request, Starter<T> starter) {
        Objects.requireNonNull(request, "request");
        if (closed || !context.calls().enter()) {
            return CompletableFuture.failedFuture(new ClientClosedException(request.route().toString(),
                    "the client is closed"));
        }
        Pool<HttpConnection> pool;
        HttpRequest sent;
        io.sluice.http.internal.client.RouteGuard guard;
        try {
            pool = routePool(request.route());
            sent = callInterceptors.isEmpty() ? request : RequestInterceptor.applyAll(callInterceptors, request);
            guard = guard(request.route());
        } catch (ClientClosedException | InvalidRequestException e) {
            context.calls().exit();
            return CompletableFuture.failedFuture(e);
        } catch (RuntimeException | Error e) {
            context.calls().exit(); // an interceptor's own exception reaches the caller, as it always did
            throw e;
        }
        return starter.start(pool, request.route().toString(), sent, context, guard);
    }

    /** {@link #send}, waiting; failures are thrown as {@link SluiceHttpException}. */
    public HttpResponse sendBlocking(HttpRequest request) {
        return Errors.join(send(request), request.route().toString());
    }

    /** {@link #stream}, waiting for the response head; failures are thrown as {@link SluiceHttpException}. */
    public StreamingResponse streamBlocking(HttpRequest request) {
        return Errors.join(stream(request), request.route().toString());
    }

    // ------------------------------------------------------------------ pools

    /**
     * The route's pool, created (and pre-warmed to minIdle) on first use, for what works on a
     * pool as a whole: the {@link io.sluice.pool.health.HealthMonitor}, the
     * {@link io.sluice.pool.AdaptiveScaler}, {@code stats()}, {@code resize}. Its connections are
     * the client's own (hence the wildcard): send requests through the client. Do not close it;
     * the client does.
     */
    public Pool<?> pool(Route route) {
        return routePool(route);
    }

    /** The route's pool with its connection type, for the client's own use. */
    Pool<HttpConnection> routePool(Route route) {
        Pool<HttpConnection> p = pools.get(route);
        if (p != null) {
            return p;
        }
        if (closed) {
            throw new ClientClosedException(route.toString(), "the client is closed");
        }
        p = pools.computeIfAbsent(route, this::newPool);
        if (closed) {
            p.closeNow(); // lost the race with close(): don't leave it open
            throw new ClientClosedException(route.toString(), "the client is closed");
        }
        return p;
    }

    private io.sluice.http.internal.client.RouteGuard guard(Route route) {
        return guards.computeIfAbsent(route, r -> new io.sluice.http.internal.client.RouteGuard(r.toString(), outliers));
    }

    /**
     * The route's event counters: connections found broken between requests (by reason),
     * transport replays, failures handed to callers, outlier ejections.
     */
    public RouteCounters counters(Route route) {
        return guard(route).snapshot();
    }

    private Pool<HttpConnection> newPool(Route route) {
        RouteConnectionManager manager = new RouteConnectionManager(route, transport,
                route.secure() ? tls : null, transportSettings, scheduler, dns, handshakes, resolver, proxy);
        managers.put(route, manager);
        if (closed) {
            manager.clientClosing(); // created as close() ran: it may not have seen this manager
        }
        io.sluice.http.internal.client.RouteGuard guard = guard(route);
        manager.onBroken((connection, reason) -> guard.connectionBroken(reason));
        Pool<HttpConnection> pool = Pool.builder(manager).name(route.toString()).config(poolConfig)
                .scheduler(scheduler).build();
        return pool;
    }

    /**
     * What each open connection of {@code route} negotiated (protocol, TLS version and cipher,
     * the server's stream limit, addresses), as snapshots; empty when the route has none open.
     */
    public java.util.List<ConnectionInfo> connections(Route route) {
        RouteConnectionManager m = managers.get(route);
        return m == null ? java.util.List.of() : m.connections();
    }

    /** The routes that have a pool. */
    public java.util.Set<Route> routes() {
        return java.util.Collections.unmodifiableSet(pools.keySet());
    }

    /**
     * The route's pool statistics, event counters and open connections from one call; its
     * {@code toString()} is one line for a log.
     */
    public RouteSnapshot snapshot(Route route) {
        return new RouteSnapshot(route, stats(route), counters(route), connections(route));
    }

    /** The route's pool statistics, or null when the route has no pool yet. */
    public PoolStats stats(Route route) {
        Pool<HttpConnection> p = pools.get(route);
        return p == null ? null : p.stats();
    }

    /** Statistics of every pool, by route. */
    public Map<Route, PoolStats> allStats() {
        Map<Route, PoolStats> out = new LinkedHashMap<>();
        pools.forEach((r, p) -> out.put(r, p.stats()));
        return out;
    }

    /** TLS handshake counters (full vs resumed, with durations). */
    public TlsStats tlsStats() {
        return handshakes.snapshot();
    }

    /**
     * Forgets the cached TLS sessions: the next new connection to each route does a full
     * handshake instead of resuming. Open connections are not affected. Used by the bench to time
     * full handshakes on a warm client.
     */
    public void clearTlsSessions() {
        SslContextFactory.clearSessions(tls.current());
    }

    /**
     * Reads the TLS material again (key stores, trust stores, PEM files; factories are asked again)
     * and builds a new TLS context: connections opened from now on present and trust what the files
     * hold now; open connections keep what they were made with and finish undisturbed. TLS sessions
     * are not resumed across a reload. When the material cannot be read (a file half-written, a wrong
     * password), the client keeps the context it had and this throws {@link IllegalArgumentException}.
     * A closed client (also one closed while this runs) throws {@link ClientClosedException}.
     */
    public void reloadTls() {
        if (closed) {
            throw new ClientClosedException("(client)", "the client is closed");
        }
        tls.reload(); // ClientClosedException too when close() ran since the check above
        LOG.debug("TLS material reloaded; new connections use it");
    }

    /** The scheduled reload: a failure keeps the old material and is logged, never thrown into the timer. */
    private void reloadTlsOnSchedule() {
        if (closed) {
            return;
        }
        try {
            tls.reload();
        } catch (ClientClosedException closing) {
            // closed since the check above: nothing to reload, nothing to warn about
        } catch (RuntimeException e) {
            LOG.warn("TLS material could not be reloaded, keeping the current one: {}", e.getMessage());
        }
    }

    /** The status retry policy in force (SDK transports check that it is off). */
    public io.sluice.http.retry.StatusRetryPolicy statusRetryPolicy() {
        return context.statusRetries();
    }

    /** Whether a native transport (epoll or io_uring) is in use. */
    public boolean nativeTransport() {
        return transport.isNative();
    }

    /**
     * The socket transport in use: {@code epoll} (Linux, the default there), {@code io_uring} (Linux,
     * when asked for with {@code -Dsluice.transport=io_uring}) or {@code nio} (elsewhere, or when the
     * native library could not load).
     */
    public String transportName() {
        return transport.kind().name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The TLS engine in use: {@code OPENSSL} or {@code JDK}. */
    public String tlsProvider() {
        return tls.current().getClass().getSimpleName().contains("OpenSsl") ? "OPENSSL" : "JDK";
    }

    /**
     * The calls started ({@link #send}, {@link #stream}) and not yet ended, over every route: waiting for admission
     * or a connection, between retries, waiting for the response head, or streaming the body (a
     * {@link StreamingResponse} until its body ends, fails or is closed). What {@link #closeGracefully} waits for.
     * Thread-safe; a snapshot.
     */
    public int callsInFlight() {
        return context.calls().count();
    }

    /**
     * Closes the client once the calls already started have ended, or when {@code timeout} has passed, whichever
     * comes first.
     *
     * <p>From the moment this is called, new calls ({@link #send}, {@link #stream} and their blocking forms) fail at
     * once with the {@link ClientClosedException} of a closed client, and nothing is sent for them. The calls
     * started before carry on wherever they are: waiting for admission ({@link RequestAdmission}) or for a
     * connection in the pool's queue, waiting out a status retry's delay or a replay's back-off, waiting for the
     * response head, or streaming the body. Their status retries and transport replays go ahead too, each within
     * the call's own deadline and retry budget: the client accepted the call, and a retry is part of it, not a new
     * call. Until the close, the pools stay open for them (new connections included) and the TLS reload keeps
     * running.
     *
     * <p>When the last of them ends, or at {@code timeout}, the client closes exactly as {@link #close()} does:
     * calls still running then fail as they fail there (a warning counts them). That close runs on a short-lived
     * thread of its own, never on the thread whose call ended (an event loop, which the close shuts down and waits
     * for, or a callback lane), nor on the timer, nor on the caller's thread: with no call running, or a zero
     * timeout, it starts at once there. {@link #close()} during the drain closes at once, on its caller's thread; if
     * the drain's own close has begun, {@code close()} returns when it has finished.
     *
     * <p>The returned future completes normally, once, after the client is closed, whichever way that came: the
     * last call, the timeout, or {@code close()}; never exceptionally. Its dependents run on the thread that
     * finished the close, under no lock. Each call returns a future of its own: cancelling it stops nothing. Called
     * again during the drain it joins the first (whose timeout holds); called after the close it returns a completed
     * future. A call counts until its caller's callbacks on its future have run: a callback that waits for this
     * drain's future holds it until the timeout (wait from a thread of your own, or chain the drain's future).
     *
     * <p><b>Thread-safety:</b> thread-safe. A call starting on another thread as this runs is either refused, or
     * counted and waited for: never neither (the count and the refusal are one atomic step, and the end of the last
     * call counted triggers the close, with no polling). It never blocks, so any thread may call it.
     *
     * @param timeout the longest wait for the calls in flight; zero closes at once
     * @return completes when the client is closed
     * @throws IllegalArgumentException when {@code timeout} is negative
     */
    public CompletableFuture<Void> closeGracefully(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative, was " + timeout);
        }
        CompletableFuture<Void> done = terminated.copy(); // the caller's own: what it does to it reaches no other
        long running = context.calls().drain();
        if (running < 0) {
            return done; // a drain is under way: its close (or a close()) completes this one too
        }
        if (running == 0 || timeout.isZero() || closed) {
            // Nothing to wait for (and no call will end the drain: none is counted), or a close is under way already
            // (then nothing starts here, and that close completes done when it has finished).
            closeInBackground();
            return done;
        }
        LOG.debug("closing gracefully: waiting up to {} for {} call(s) in flight", timeout, running);
        try {
            long nanos = timeout.compareTo(Duration.ofNanos(Long.MAX_VALUE)) < 0 ? timeout.toNanos() : Long.MAX_VALUE;
            java.util.concurrent.ScheduledFuture<?> t = scheduler.schedule(() -> drainTimedOut(timeout), nanos,
                    TimeUnit.NANOSECONDS);
            drainTimer = t;
            if (closeStarted.get()) {
                t.cancel(false); // the last call ended, and the close ran, while the timer was being set
            }
        } catch (java.util.concurrent.RejectedExecutionException e) {
            closeInBackground(); // the shared timer was shut down by its owner: nothing can time the wait
        }
        return done;
    }

    /** The graceful close's timeout passed with calls still running: they are cut as close() cuts them. */
    private void drainTimedOut(Duration timeout) {
        int cut = context.calls().count();
        if (cut > 0 && !closed) {
            LOG.warn("{} call(s) still running after closeGracefully's {}; closing cuts them", cut, timeout);
        }
        closeInBackground();
    }

    /**
     * Ends the drain (the last call counted has ended, the timeout passed, or there was nothing to wait for) with a
     * close on a thread of its own: this runs on whatever thread ended that call (an event loop, which close() shuts
     * down and waits for, or a callback lane), on the timer, which close() shuts down as well, or on the caller of
     * closeGracefully, which must not block.
     */
    private void closeInBackground() {
        if (closeStarted.get() || !closerStarted.compareAndSet(false, true)) {
            return;
        }
        Thread closer = new Thread(this::close, "sluice-http-close");
        closer.setDaemon(true); // as every thread of the client
        try {
            closer.start();
        } catch (OutOfMemoryError | RuntimeException noThread) {
            // No thread to close on (out of native threads): the timer, which the close shuts down but does not wait
            // for, closes instead; failing that, the caller's own close() will (closeStarted is still free).
            LOG.warn("could not start a thread to close the client; closing on the client's timer", noThread);
            try {
                scheduler.execute(this::close);
            } catch (java.util.concurrent.RejectedExecutionException gone) {
                closerStarted.set(false);
            }
        }
    }

    /** Whether this thread is one of the event loops this client's close shuts down (and waits for). */
    private boolean onOwnEventLoop() {
        if (!ownsResources) {
            return false; // shared loops are not shut down by this client's close
        }
        for (io.netty.util.concurrent.EventExecutor e : transport.group()) {
            if (e.inEventLoop()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Closes every pool and connection, then the event loops and the scheduler. Calls in flight fail with
     * {@link ClientClosedException} ({@link #closeGracefully} lets them finish first); during a graceful close this
     * closes at once and completes its future. Idempotent; while another thread is closing the client (a graceful
     * close's end) it returns at once. Thread-safe.
     */
    @Override
    public void close() {
        if (!closeStarted.compareAndSet(false, true)) {
            // Another thread is closing (a graceful close's end, or a concurrent close()): return once it has
            // finished, so that close() returning still means closed (a JVM may exit next). Not on one of the
            // client's event loops: that close waits for them to end.
            if (!onOwnEventLoop()) {
                terminated.join();
            }
            return;
        }
        closed = true;
        java.util.concurrent.ScheduledFuture<?> drain = drainTimer;
        if (drain != null) {
            drain.cancel(false);
        }
        try {
            for (RouteConnectionManager m : managers.values()) {
                m.clientClosing(); // attempts cut by this close are the client's doing, not failed handshakes
            }
            if (tlsReloadTask != null) {
                tlsReloadTask.cancel(false);
            }
            try {
                for (Pool<HttpConnection> p : pools.values()) {
                    p.closeNow(); // the client's close ends requests in flight (documented above); no grace period
                }
            } finally {
                try {
                    context.delayed().closeAll(); // calls waiting out a retry delay: their attempt will not run
                } finally {
                    if (ownsResources) {
                        // Event loops, timer, DNS; the callback lanes still run queued completions (failures of calls
                        // cut by the close) and later ones too. Shared resources stay up for the other clients.
                        resources.close();
                    }
                }
            }
            tls.close();
        } finally {
            terminated.complete(null); // everything is closed: the graceful closes' futures complete, here, lock-free
        }
    }

    /**
     * Builds a {@link ConnectionPoolManager}. Defaults: {@link PoolConfig#defaults()}, system
     * trust store with host-name verification, connect timeout = pool connectionTimeout
     * (10 s), headers 30 s, body idle 30 s, no overall deadline, {@link Http2Settings#defaults()},
     * HTTP/1.1 on {@code http://}, limits 64 KiB / 64 MiB / 1 MiB, status retries on.
     *
     * <p><b>Thread-safety:</b> not thread-safe; confine to one thread.
     */
    public static final class Builder {
        private boolean http1Only;
        private io.sluice.pool.health.OutlierDetector.Settings outlierDetection = io.sluice.pool.health.OutlierDetector.Settings.defaults();
        private PoolConfig poolConfig = PoolConfig.defaults();
        private TlsOptions tls = TlsOptions.defaults();
        private Duration tlsReloadInterval;
        private Timeouts timeouts;
        private Http2Settings http2 = Http2Settings.defaults();
        private boolean h2cPriorKnowledge;
        private Limits limits = Limits.defaults();
        private StatusRetryPolicy statusRetryPolicy = StatusRetryPolicy.defaults();
        private int ioThreads;
        private boolean preferNativeTransport = true;
        private Executor callbackExecutor;
        private SluiceResources resources;
        private boolean decompress = true;
        private AddressResolver resolver = AddressResolver.system();
        private ProxyOptions proxy;
        private final List<CallListener.Factory> callListeners = new java.util.ArrayList<>();
        private RequestAdmission admission;
        private final List<RequestInterceptor> callInterceptors = new java.util.ArrayList<>();
        private final List<RequestInterceptor> attemptInterceptors = new java.util.ArrayList<>();

        /**
         * Asks {@code admission} before every attempt of every request, before a connection is acquired: a rate
         * limiter that holds requests until the provider's budget has room (see {@link RequestAdmission}). Null,
         * the default: every attempt goes at once.
         */
        public Builder admission(RequestAdmission admission) {
            this.admission = admission;
            return this;
        }

        /**
         * Adds a factory that makes a {@link CallListener} for every call (none by default, at no cost).
         * Several may be added (metrics, tracing, your own): each call's events reach their listeners in
         * the order the factories were added. For one thread-safe listener shared by all calls:
         * {@code callListener(CallListener.Factory.of(listener))}.
         */
        public Builder callListener(CallListener.Factory factory) {
            callListeners.add(Objects.requireNonNull(factory, "factory"));
            return this;
        }

        /** Rewrites every request once, on the caller's thread, before its first attempt (see {@link RequestInterceptor}). */
        public Builder interceptor(RequestInterceptor i) {
            callInterceptors.add(Objects.requireNonNull(i, "interceptor"));
            return this;
        }

        /**
         * Rewrites every attempt of every request, replays and status retries included, on the thread that
         * hands the attempt its connection (quick and non-blocking; see {@link RequestInterceptor}).
         */
        public Builder attemptInterceptor(RequestInterceptor i) {
            attemptInterceptors.add(Objects.requireNonNull(i, "interceptor"));
            return this;
        }

        /**
         * Reaches routes through this forward proxy (HTTP CONNECT or SOCKS5), except the hosts on its
         * no-proxy list; null (the default) connects directly. {@link ProxyOptions#fromEnvironment()}
         * and {@link ProxyOptions#fromSystemProperties()} read the usual settings, opt-in.
         */
        public Builder proxy(ProxyOptions p) {
            this.proxy = p;
            return this;
        }

        private Builder() {
        }

        /**
         * How host names become addresses ({@link AddressResolver#system()} by default): a custom DNS,
         * or static overrides. Every address is tried with Happy Eyeballs (see {@link AddressResolver}).
         */
        public Builder resolver(AddressResolver r) {
            this.resolver = Objects.requireNonNull(r, "resolver");
            return this;
        }

        /**
         * Transparent response decompression (on by default): a request without an
         * {@code accept-encoding} of its own is sent with {@code accept-encoding: gzip, deflate}, and
         * a gzip or deflate answer is inflated before the caller reads it ({@code content-encoding}
         * and {@code content-length} removed from its head). The body limit counts inflated bytes.
         * A request that sets {@code accept-encoding} itself gets the body as it came.
         */
        public Builder decompressResponses(boolean on) {
            this.decompress = on;
            return this;
        }

        /**
         * Runs this client on shared threads (event loops, timer, DNS, callbacks) instead of a set of
         * its own; the caller keeps owning them and closes them after every client using them
         * ({@link SluiceResources}). Not with {@link #ioThreads}, {@link #preferNativeTransport(boolean)}
         * or {@link #callbackExecutor}: those are the resources' settings.
         */
        public Builder resources(SluiceResources shared) {
            this.resources = Objects.requireNonNull(shared, "shared");
            return this;
        }

        public Builder poolConfig(PoolConfig c) {
            this.poolConfig = Objects.requireNonNull(c);
            return this;
        }

        public Builder tls(TlsOptions t) {
            this.tls = Objects.requireNonNull(t);
            return this;
        }

        /**
         * Reloads the TLS material this often ({@link ConnectionPoolManager#reloadTls()}), for
         * certificates that rotate on disk (cert-manager, Vault agent); off by default. A reload that
         * fails keeps the current material and logs a warning.
         */
        public Builder tlsReloadInterval(Duration every) {
            if (every != null && every.toMillis() < 1) {
                throw new IllegalArgumentException("tlsReloadInterval must be at least 1 ms, was " + every);
            }
            this.tlsReloadInterval = every;
            return this;
        }

        /** All default timeouts at once; requests may override headers, body idle and total. */
        public Builder timeouts(Timeouts t) {
            this.timeouts = Objects.requireNonNull(t);
            return this;
        }

        /** Convenience: the default time-to-headers bound (30 s per request). */
        public Builder requestTimeout(Duration headers) {
            Timeouts base = timeouts != null ? timeouts : new Timeouts(poolConfig.connectionTimeout(),
                    Timeouts.defaults().headers(), Timeouts.defaults().bodyIdle(), null);
            this.timeouts = new Timeouts(base.connect(), headers, base.bodyIdle(), base.total());
            return this;
        }

        public Builder http2(Http2Settings s) {
            this.http2 = Objects.requireNonNull(s);
            return this;
        }

        /** Speak HTTP/2 without TLS (prior knowledge) on {@code http://} routes. */
        public Builder h2cPriorKnowledge(boolean on) {
            this.h2cPriorKnowledge = on;
            return this;
        }

        public Builder limits(Limits l) {
            this.limits = Objects.requireNonNull(l);
            return this;
        }

        /** Status retries (429/503, 5xx for idempotent methods) on or off; on by default. */
        /**
         * Outlier ejection per route (Envoy's defaults: 5 consecutive upstream failures eject
         * the route for 30 s × ejections, at most 300 s; one probe request brings it back);
         * while ejected, requests fail fast with {@link RouteUnavailableException}. Null turns
         * it off.
         */
        /** Offer only {@code http/1.1} in ALPN, so HTTPS routes speak HTTP/1.1 even to HTTP/2 servers. */
        public Builder http1Only(boolean on) {
            this.http1Only = on;
            return this;
        }

        public Builder outlierDetection(io.sluice.pool.health.OutlierDetector.Settings settings) {
            this.outlierDetection = settings;
            return this;
        }

        public Builder statusRetries(boolean on) {
            this.statusRetryPolicy = on ? StatusRetryPolicy.defaults() : StatusRetryPolicy.disabled();
            return this;
        }

        public Builder statusRetryPolicy(StatusRetryPolicy p) {
            this.statusRetryPolicy = Objects.requireNonNull(p);
            return this;
        }

        /** Event loop threads; 0 for Netty's default. */
        public Builder ioThreads(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("ioThreads must be >= 0, was " + n);
            }
            this.ioThreads = n;
            return this;
        }

        /** Use native epoll when available (default true). */
        public Builder preferNativeTransport(boolean on) {
            this.preferNativeTransport = on;
            return this;
        }

        /**
         * Where futures handed to callers complete. By default the client's own daemon threads: one
         * lane per core, woken only when idle, with continuations that block for more than 10 ms
         * moved out of the way (docs/http.md, "Layers"). {@code Runnable::run} completes them on the
         * event loop: fastest, for non-blocking continuations only. A completion the executor refuses
         * ({@code RejectedExecutionException}: shut down or saturated) runs on the thread at hand instead,
         * with a warning, so that no future is left incomplete.
         */
        public Builder callbackExecutor(Executor e) {
            this.callbackExecutor = Objects.requireNonNull(e);
            return this;
        }

        public ConnectionPoolManager build() {
            if (resources != null && (ioThreads != 0 || !preferNativeTransport || callbackExecutor != null)) {
                throw new IllegalStateException("ioThreads, preferNativeTransport and callbackExecutor belong to the "
                        + "shared SluiceResources: set them on its builder");
            }
            return new ConnectionPoolManager(this);
        }
    }
}

package io.sluice.micrometer;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.sluice.http.CallListener;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.Route;
import io.sluice.http.RouteCounters;
import io.sluice.http.TlsStats;
import io.sluice.pool.AdaptiveScaler;
import io.sluice.pool.CloseReason;
import io.sluice.pool.Pool;
import io.sluice.pool.PoolStats;
import io.sluice.pool.ScalingDecision;
import io.sluice.pool.health.HealthMonitor;
import io.sluice.pool.health.HealthStatus;
import io.sluice.routing.RegionRouter;
import io.sluice.websocket.WebSocketPool;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Sluice's metrics on a Micrometer {@link MeterRegistry}: the same figures as
 * {@code io.sluice.prometheus.PrometheusMetrics}, with dotted names ({@code sluice.pool.connections.open},
 * {@code sluice.http.client.request.duration}) that Micrometer's Prometheus registry renders to the same
 * names ({@code sluice_pool_connections_open}, {@code sluice_http_client_request_duration_seconds}), plus
 * the standard {@code connection.pool} ({@code connection_pool_total}), {@code connection.pool.active} and
 * {@code connection.pool.wait.time} ({@code connection_pool_wait_time_seconds}, a histogram).
 * {@code docs/metrics.md} lists every metric.
 *
 * <pre>{@code
 * SluiceMeters meters = new SluiceMeters(registry);
 * ConnectionPoolManager client = meters.instrument(ConnectionPoolManager.builder()).build();
 * meters.client(client);      // every route, those opened later included
 * }</pre>
 *
 * <p>A client's routes are registered when bound and, for a client built with {@link #instrument}, when
 * its first call to a new route starts, so pools the client creates lazily are covered without one
 * registration per pool. A route of a client bound without {@link #instrument} that opens later is not
 * seen (nothing tells the binder about it): instrument the builder.
 *
 * <p><b>Thread-safety:</b> thread-safe. Each pool's snapshot serves all of its meters for
 * {@link #SNAPSHOT_TTL_NANOS}, so one scrape does not copy the pool's wait histogram once per meter.
 * <b>Ownership:</b> reads the clients, pools, monitors, scalers and routers it is given; closes none;
 * the registry is the caller's.
 */
public final class SluiceMeters {

    /** How long one pool snapshot serves all of that pool's meters. */
    static final long SNAPSHOT_TTL_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    private final MeterRegistry registry;
    private final MeterListener listener;
    private final List<ConnectionPoolManager> clients = new CopyOnWriteArrayList<>();
    /** Bound rate limiters, as Object so this class loads without the optional sluice-ratelimit. */
    private final List<Object> limiters = new CopyOnWriteArrayList<>();
    private final Set<String> limiterRoutes = ConcurrentHashMap.newKeySet();

    /** Route pool names already registered: a route is registered once, whichever client has it. */
    private final Set<String> registeredPools = ConcurrentHashMap.newKeySet();
    private final Object tlsOnce = new Object();
    private boolean tlsRegistered;

    /** Meters in {@code registry}. */
    public SluiceMeters(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.listener = new MeterListener(registry, this::routeSeen);
    }

    /** Adds the request meters' listener factory to a client builder (factories add up). Returns the builder. */
    public ConnectionPoolManager.Builder instrument(ConnectionPoolManager.Builder builder) {
        return builder.callListener(listener);
    }

    /** The request meters' listener factory, for {@link ConnectionPoolManager.Builder#callListener}. */
    public CallListener.Factory callListenerFactory() {
        return listener;
    }

    /**
     * Binds a client: the pool meters of its routes (now and, with {@link #instrument}, as calls open new
     * ones), its TLS handshake counts, passive detection and outlier meters.
     */
    public SluiceMeters client(ConnectionPoolManager client) {
        clients.add(Objects.requireNonNull(client, "client"));
        synchronized (tlsOnce) {
            if (!tlsRegistered) {
                tlsRegistered = true;
                tls("full", TlsStats::fullHandshakes);
                tls("resumed", TlsStats::resumedHandshakes);
                tls("failed", TlsStats::failedHandshakes);
            }
        }
        for (Route r : client.routes()) {
            routeSeen(r);
        }
        return this;
    }

    /** Binds a WebSocket pool's state, tagged with its (redacted) name. */
    public SluiceMeters webSocket(WebSocketPool pool) {
        Objects.requireNonNull(pool, "pool");
        String name = pool.stats().name();
        if (registeredPools.add(name)) {
            poolMeters(name, new Snapshot(pool::stats));
        }
        return this;
    }

    /** Binds any other pool's state, tagged with its name. */
    public SluiceMeters pool(Pool<?> pool) {
        Objects.requireNonNull(pool, "pool");
        if (registeredPools.add(pool.name())) {
            poolMeters(pool.name(), new Snapshot(pool::stats));
        }
        return this;
    }

    /** Binds the health state of the pools the monitor watches now. */
    public SluiceMeters health(HealthMonitor monitor) {
        Objects.requireNonNull(monitor, "monitor");
        for (String pool : monitor.statuses().keySet()) {
            Tags t = Tags.of("pool", pool);
            ToDoubleFunction<HealthMonitor> up = m -> status(m, pool, s -> s.healthy() ? 1 : 0);
            Gauge.builder("sluice.health.up", monitor, up).description("1 when the pool's last health round passed")
                    .tags(t).strongReference(true).register(registry);
            Gauge.builder("sluice.health.consecutive.failures", monitor, m -> status(m, pool, HealthStatus::consecutiveFailures))
                    .description("Failed probes in a row, across rounds").tags(t).strongReference(true).register(registry);
            Gauge.builder("sluice.health.success.ratio", monitor, m -> status(m, pool, HealthStatus::successRate))
                    .description("Share of the last round's probes that succeeded").tags(t).strongReference(true).register(registry);
            Gauge.builder("sluice.health.latency", monitor,
                            m -> status(m, pool, s -> s.averageLatency().toNanos() / 1e9))
                    .description("Mean latency of the last round's successful probes").baseUnit("seconds").tags(t)
                    .strongReference(true).register(registry);
        }
        return this;
    }

    private static double status(HealthMonitor m, String pool, ToDoubleFunction<HealthStatus> f) {
        HealthStatus s = m.statuses().get(pool);
        return s == null ? Double.NaN : f.applyAsDouble(s);
    }

    /** Binds the scaler's lifetime decision counts (never down, unlike its bounded history) and last utilisation. */
    public SluiceMeters scaler(AdaptiveScaler scaler) {
        Objects.requireNonNull(scaler, "scaler");
        for (ScalingDecision.Action a : ScalingDecision.Action.values()) {
            FunctionCounter.builder("sluice.scaler.decisions", scaler, ignored -> scaler.decisionCounts().getOrDefault(a, 0L))
                    .description("Adaptive scaler decisions since it started")
                    .tags("pool", scaler.poolName(), "action", a.name().toLowerCase(Locale.ROOT)).register(registry);
        }
        Gauge.builder("sluice.scaler.last.utilisation", scaler, s -> {
            List<ScalingDecision> ds = s.decisions();
            return ds.isEmpty() ? Double.NaN : ds.get(ds.size() - 1).utilisation();
        }).description("Utilisation the scaler saw in its last interval").tags("pool", scaler.poolName()).strongReference(true).register(registry);
        return this;
    }

    /** Binds the router's region latencies and cooldowns. */
    public SluiceMeters router(RegionRouter router) {
        Objects.requireNonNull(router, "router");
        for (String region : router.selector().regions()) {
            Gauge.builder("sluice.region.latency", router, r -> {
                Duration d = r.selector().latencies().get(region);
                return d == null ? Double.NaN : d.toNanos() / 1e9;
            }).description("Peak-EWMA latency per region").baseUnit("seconds").tags("region", region).strongReference(true).register(registry);
            Gauge.builder("sluice.region.cooldown", router,
                            r -> r.selector().cooldowns().getOrDefault(region, Duration.ZERO).toNanos() / 1e9)
                    .description("Time left in a region's Retry-After cooldown").baseUnit("seconds").tags("region", region)
                    .strongReference(true).register(registry);
        }
        return this;
    }

    /** A route was seen (bound or called): registers its meters once, reading whichever bound client has it. */
    /**
     * Binds a rate limiter (sluice-ratelimit, an optional dependency): attempts admitted at once and after
     * waiting, the total wait, refusals, 429s seen, fleet admissions and fallbacks, Redis errors; and, per route
     * (routes its budgets have now and, with {@link #instrument}, those calls open later), what is left of the
     * budgets and how many requests wait. Same names as sluice-prometheus.
     */
    public SluiceMeters rateLimiter(io.sluice.ratelimit.RateLimiter limiter) {
        RateLimitMeters.bind(registry, Objects.requireNonNull(limiter, "limiter"));
        limiters.add(limiter);
        for (String route : limiter.stats().byRoute().keySet()) {
            limiterRouteSeen(route);
        }
        return this;
    }

    /** The per-route budget gauges, once per route (limiters kept as Object: sluice-ratelimit is optional). */
    private void limiterRouteSeen(String route) {
        if (!limiters.isEmpty() && limiterRoutes.add(route)) {
            RateLimitMeters.route(registry, limiters, route);
        }
    }

    private void routeSeen(Route route) {
        limiterRouteSeen(route.toString());
        String name = route.toString();
        if (!registeredPools.add(name)) {
            return;
        }
        Snapshot s = new Snapshot(() -> {
            for (ConnectionPoolManager c : clients) {
                PoolStats st = c.stats(route);
                if (st != null) {
                    return st;
                }
            }
            return null;
        });
        poolMeters(name, s);
        Tags t = Tags.of("pool", name);
        for (String reason : List.of("goaway", "closed", "other")) {
            FunctionCounter.builder("sluice.connections.broken", route,
                            ignored -> counters(route, c -> c.connectionsBroken().getOrDefault(reason, 0L)))
                    .description("Pooled connections found broken between requests (passive detection)")
                    .tags(t.and("reason", reason)).register(registry);
        }
        Gauge.builder("sluice.route.ejected", route, r -> counters(r, c -> c.ejected() ? 1 : 0))
                .description("1 while outlier detection has ejected the route").tags(t).strongReference(true).register(registry);
        FunctionCounter.builder("sluice.route.ejections", route, ignored -> counters(route, RouteCounters::ejections))
                .description("Times outlier detection ejected the route").tags(t).register(registry);
    }

    private double counters(Route route, ToDoubleFunction<RouteCounters> f) {
        for (ConnectionPoolManager c : clients) {
            if (c.stats(route) != null) { // counters() would create the route's guard; only ask a client that has it
                return f.applyAsDouble(c.counters(route));
            }
        }
        return Double.NaN;
    }

    private void tls(String kind, ToDoubleFunction<TlsStats> f) {
        FunctionCounter.builder("sluice.tls.handshakes", clients, ignored -> {
            double sum = 0;
            for (ConnectionPoolManager c : clients) {
                sum += f.applyAsDouble(c.tlsStats());
            }
            return sum;
        }).description("TLS handshakes of the bound clients, by kind").tags("kind", kind).register(registry);
    }

    private void poolMeters(String name, Snapshot s) {
        Tags t = Tags.of("pool", name);
        gauge("sluice.pool.connections.open", "Connections open, draining ones included", t, s, PoolStats::open);
        gauge("sluice.pool.connections.idle", "Open connections with no lease", t, s, PoolStats::idle);
        gauge("sluice.pool.connections.in.use", "Open connections with at least one lease", t, s, PoolStats::inUse);
        gauge("sluice.pool.connections.draining", "Connections taking no new leases", t, s, PoolStats::draining);
        gauge("sluice.pool.connections.connecting", "Connections being opened", t, s, PoolStats::connecting);
        gauge("sluice.pool.connections.limit", "The pool's current connection limit", t, s, PoolStats::maxConnections);
        gauge("sluice.pool.leases.active", "Slots in use (leases out)", t, s, PoolStats::leasesOut);
        gauge("sluice.pool.pending", "Callers waiting for a slot", t, s, PoolStats::pending);
        gauge("connection.pool.active", "Standard name: slots in use", t, s, PoolStats::leasesOut);
        counter("sluice.pool.connections.opened", "Connections opened", t, s, PoolStats::created);
        counter("connection.pool", "Standard name (connection_pool_total): connections opened", t, s, PoolStats::created);
        counter("sluice.pool.connect.attempts", "Connect attempts started", t, s, PoolStats::connectAttempts);
        counter("sluice.pool.connect.failures", "Connect attempts that failed", t, s, PoolStats::failedConnects);
        counter("sluice.pool.connect.backoffs", "Pauses after a connect gave up", t, s, PoolStats::connectBackoffs);
        counter("sluice.pool.acquisitions", "Successful acquires", t, s, PoolStats::acquisitions);
        counter("sluice.pool.acquire.hits", "Acquires served by a connection already open", t, s, PoolStats::hits);
        counter("sluice.pool.acquire.misses", "Acquires that waited for a new connection", t, s, PoolStats::misses);
        counter("sluice.pool.acquire.timeouts", "Acquires that timed out", t, s, PoolStats::timeouts);
        counter("sluice.pool.acquire.exhausted", "Acquires refused: too many waiting", t, s, PoolStats::exhausted);
        for (CloseReason reason : CloseReason.values()) {
            counter("sluice.pool.connections.closed", "Connections closed, by reason",
                    t.and("reason", reason.name().toLowerCase(Locale.ROOT)), s,
                    st -> st.closedByReason().getOrDefault(reason, 0L));
        }
    }

    // Micrometer holds a gauge's or function counter's state object weakly: gauges are built with
    // strongReference(true) and function counters capture their state in the function (held strongly), or a
    // collected snapshot would make the meter read NaN (stateMetersSurviveAGarbageCollection).
    private void gauge(String name, String help, Tags tags, Snapshot s, ToDoubleFunction<PoolStats> f) {
        Gauge.builder(name, s, src -> src.read(f)).description(help).tags(tags).strongReference(true).register(registry);
    }

    private void counter(String name, String help, Tags tags, Snapshot s, ToDoubleFunction<PoolStats> f) {
        FunctionCounter.builder(name, s, ignored -> s.read(f)).description(help).tags(tags).register(registry);
    }

    /** One pool's stats, cached for {@link #SNAPSHOT_TTL_NANOS}; NaN while the pool does not exist. */
    private static final class Snapshot {
        private final Supplier<PoolStats> source;
        private PoolStats cached;
        private long cachedAt;

        Snapshot(Supplier<PoolStats> source) {
            this.source = source;
        }

        synchronized double read(ToDoubleFunction<PoolStats> f) {
            long now = System.nanoTime();
            if (cached == null || now - cachedAt > SNAPSHOT_TTL_NANOS) {
                cached = source.get();
                cachedAt = now;
            }
            return cached == null ? Double.NaN : f.applyAsDouble(cached);
        }
    }
}

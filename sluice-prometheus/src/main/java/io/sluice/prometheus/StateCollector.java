package io.sluice.prometheus;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.ToDoubleFunction;

/**
 * Everything read from Sluice's own state at scrape time: pool gauges and counters of every route of
 * every bound client (so a route the client opened after binding is there at the next scrape), of
 * WebSocket pools and other pools; TLS handshake counts; passive-detection and outlier counters; health,
 * scaler and region series. Each pool's {@link PoolStats} is read once per scrape, not once per metric
 * (a snapshot copies the pool's wait histogram).
 *
 * <p>Counters here are the pools' own cumulative counters, which only grow, so they are exposed as
 * Prometheus counters; states (open, idle, pending...) are gauges.
 *
 * <p><b>Thread-safety:</b> sources sit in copy-on-write lists: bind from any thread, scrape from any
 * other. <b>Ownership:</b> reads the sources, closes none.
 */
final class StateCollector implements MultiCollector {

    final List<ConnectionPoolManager> clients = new CopyOnWriteArrayList<>();
    final List<Pool<?>> pools = new CopyOnWriteArrayList<>();
    final List<WebSocketPool> webSockets = new CopyOnWriteArrayList<>();
    final List<HealthMonitor> monitors = new CopyOnWriteArrayList<>();
    final List<AdaptiveScaler> scalers = new CopyOnWriteArrayList<>();
    final List<RegionRouter> routers = new CopyOnWriteArrayList<>();
    /** Rate limiters (sluice-ratelimit is optional: typed as Object so this class loads without it). */
    final List<Object> limiters = new CopyOnWriteArrayList<>();

    @Override
    public MetricSnapshots collect() {
        List<PoolStats> stats = new ArrayList<>();
        Map<String, RouteCounters> routeCounters = new LinkedHashMap<>();
        for (ConnectionPoolManager c : clients) {
            for (Map.Entry<Route, PoolStats> e : c.allStats().entrySet()) {
                stats.add(e.getValue());
                routeCounters.putIfAbsent(e.getKey().toString(), c.counters(e.getKey()));
            }
        }
        for (WebSocketPool w : webSockets) {
            stats.add(w.stats());
        }
        for (Pool<?> p : pools) {
            stats.add(p.stats());
        }
        // One series per pool name: two clients with a pool for the same route would otherwise give two
        // samples with the same labels, which the exposition refuses. The first bound keeps the name.
        Map<String, PoolStats> byName = new LinkedHashMap<>();
        for (PoolStats s : stats) {
            byName.putIfAbsent(s.name(), s);
        }
        stats = new ArrayList<>(byName.values());
        List<MetricSnapshot> out = new ArrayList<>();
        poolMetrics(out, stats);
        if (!clients.isEmpty()) {
            tls(out);
            routeMetrics(out, routeCounters);
        }
        if (!monitors.isEmpty()) {
            health(out);
        }
        if (!scalers.isEmpty()) {
            scalers(out);
        }
        if (!routers.isEmpty()) {
            routers(out);
        }
        if (!limiters.isEmpty()) {
            RateLimitCollector.collect(out, limiters);
        }
        return new MetricSnapshots(out);
    }

    private static void poolMetrics(List<MetricSnapshot> out, List<PoolStats> stats) {
        gauge(out, stats, "sluice_pool_connections_open", "Connections open, draining ones included", PoolStats::open);
        gauge(out, stats, "sluice_pool_connections_idle", "Open connections with no lease", PoolStats::idle);
        gauge(out, stats, "sluice_pool_connections_in_use", "Open connections with at least one lease", PoolStats::inUse);
        gauge(out, stats, "sluice_pool_connections_draining", "Connections taking no new leases, closed on their last release",
                PoolStats::draining);
        gauge(out, stats, "sluice_pool_connections_connecting", "Connections being opened", PoolStats::connecting);
        gauge(out, stats, "sluice_pool_connections_limit", "The pool's current connection limit", PoolStats::maxConnections);
        gauge(out, stats, "sluice_pool_leases_active", "Slots in use (leases out) across the pool's connections",
                PoolStats::leasesOut);
        gauge(out, stats, "sluice_pool_pending", "Callers waiting for a slot", PoolStats::pending);
        gauge(out, stats, "connection_pool_active", "Standard name: slots in use (same as sluice_pool_leases_active)",
                PoolStats::leasesOut);
        counter(out, stats, "sluice_pool_connections_opened", "Connections opened", PoolStats::created);
        counter(out, stats, "connection_pool", "Standard name (connection_pool_total): connections opened "
                + "(same as sluice_pool_connections_opened_total)", PoolStats::created);
        counter(out, stats, "sluice_pool_connect_attempts", "Connect attempts started (each retry counts)",
                PoolStats::connectAttempts);
        counter(out, stats, "sluice_pool_connect_failures", "Connect attempts that failed", PoolStats::failedConnects);
        counter(out, stats, "sluice_pool_connect_backoffs", "Pauses after a connect gave up", PoolStats::connectBackoffs);
        counter(out, stats, "sluice_pool_acquisitions", "Successful acquires", PoolStats::acquisitions);
        counter(out, stats, "sluice_pool_acquire_hits", "Acquires served by a connection already open", PoolStats::hits);
        counter(out, stats, "sluice_pool_acquire_misses", "Acquires that waited for a connection opened for them",
                PoolStats::misses);
        counter(out, stats, "sluice_pool_acquire_timeouts", "Acquires that gave up after the connection timeout",
                PoolStats::timeouts);
        counter(out, stats, "sluice_pool_acquire_exhausted", "Acquires refused because too many callers waited",
                PoolStats::exhausted);
        CounterSnapshot.Builder closed = CounterSnapshot.builder().name("sluice_pool_connections_closed")
                .help("Connections closed, by reason");
        for (PoolStats s : stats) {
            for (CloseReason r : CloseReason.values()) {
                closed.dataPoint(CounterDataPointSnapshot.builder()
                        .labels(Labels.of("pool", s.name(), "reason", r.name().toLowerCase(Locale.ROOT)))
                        .value(s.closedByReason().getOrDefault(r, 0L)).build());
            }
        }
        out.add(closed.build());
    }

    private void tls(List<MetricSnapshot> out) {
        long full = 0;
        long resumed = 0;
        long failed = 0;
        for (ConnectionPoolManager c : clients) {
            TlsStats t = c.tlsStats();
            full += t.fullHandshakes();
            resumed += t.resumedHandshakes();
            failed += t.failedHandshakes();
        }
        out.add(CounterSnapshot.builder().name("sluice_tls_handshakes").help("TLS handshakes of the bound clients, by kind")
                .dataPoint(counterPoint(full, "kind", "full"))
                .dataPoint(counterPoint(resumed, "kind", "resumed"))
                .dataPoint(counterPoint(failed, "kind", "failed")).build());
    }

    private static void routeMetrics(List<MetricSnapshot> out, Map<String, RouteCounters> byRoute) {
        CounterSnapshot.Builder broken = CounterSnapshot.builder().name("sluice_connections_broken")
                .help("Pooled connections found broken between requests (passive detection), by reason");
        GaugeSnapshot.Builder ejected = GaugeSnapshot.builder().name("sluice_route_ejected")
                .help("1 while outlier detection has ejected the route");
        CounterSnapshot.Builder ejections = CounterSnapshot.builder().name("sluice_route_ejections")
                .help("Times outlier detection ejected the route");
        byRoute.forEach((pool, c) -> {
            c.connectionsBroken().forEach((reason, n) -> broken.dataPoint(counterPoint(n, "pool", pool, "reason", reason)));
            ejected.dataPoint(gaugePoint(c.ejected() ? 1 : 0, "pool", pool));
            ejections.dataPoint(counterPoint(c.ejections(), "pool", pool));
        });
        out.add(broken.build());
        out.add(ejected.build());
        out.add(ejections.build());
    }

    private void health(List<MetricSnapshot> out) {
        Map<String, HealthStatus> statuses = new LinkedHashMap<>();
        for (HealthMonitor m : monitors) {
            statuses.putAll(m.statuses());
        }
        GaugeSnapshot.Builder up = GaugeSnapshot.builder().name("sluice_health_up")
                .help("1 when the pool's last health round passed");
        GaugeSnapshot.Builder failures = GaugeSnapshot.builder().name("sluice_health_consecutive_failures")
                .help("Failed probes in a row, across rounds (a state: it goes back to 0 on success)");
        GaugeSnapshot.Builder ratio = GaugeSnapshot.builder().name("sluice_health_success_ratio")
                .help("Share of the last round's probes that succeeded");
        GaugeSnapshot.Builder latency = GaugeSnapshot.builder().name("sluice_health_latency_seconds").unit(Unit.SECONDS)
                .help("Mean latency of the last round's successful probes");
        statuses.forEach((pool, s) -> {
            up.dataPoint(gaugePoint(s.healthy() ? 1 : 0, "pool", pool));
            failures.dataPoint(gaugePoint(s.consecutiveFailures(), "pool", pool));
            ratio.dataPoint(gaugePoint(s.successRate(), "pool", pool));
            latency.dataPoint(gaugePoint(s.averageLatency().toNanos() / 1e9, "pool", pool));
        });
        out.add(up.build());
        out.add(failures.build());
        out.add(ratio.build());
        out.add(latency.build());
    }

    private void scalers(List<MetricSnapshot> out) {
        // decisionCounts() are the scaler's lifetime counts, not the bounded decisions() history: a counter
        // derived from the history would stop growing, then fall, once the history is full.
        CounterSnapshot.Builder decisions = CounterSnapshot.builder().name("sluice_scaler_decisions")
                .help("Adaptive scaler decisions since it started, by action");
        GaugeSnapshot.Builder utilisation = GaugeSnapshot.builder().name("sluice_scaler_last_utilisation")
                .help("Utilisation the scaler saw in its last interval");
        for (AdaptiveScaler s : scalers) {
            Map<ScalingDecision.Action, Long> counts = s.decisionCounts();
            for (ScalingDecision.Action a : ScalingDecision.Action.values()) {
                decisions.dataPoint(counterPoint(counts.getOrDefault(a, 0L), "pool", s.poolName(), "action",
                        a.name().toLowerCase(Locale.ROOT)));
            }
            List<ScalingDecision> ds = s.decisions();
            if (!ds.isEmpty()) {
                utilisation.dataPoint(gaugePoint(ds.get(ds.size() - 1).utilisation(), "pool", s.poolName()));
            }
        }
        out.add(decisions.build());
        out.add(utilisation.build());
    }

    private void routers(List<MetricSnapshot> out) {
        GaugeSnapshot.Builder latency = GaugeSnapshot.builder().name("sluice_region_latency_seconds").unit(Unit.SECONDS)
                .help("Peak-EWMA latency per region");
        GaugeSnapshot.Builder cooldown = GaugeSnapshot.builder().name("sluice_region_cooldown_seconds").unit(Unit.SECONDS)
                .help("Time left in a region's Retry-After cooldown");
        Map<String, Double> latencies = new LinkedHashMap<>();
        Map<String, Double> cooldowns = new LinkedHashMap<>();
        for (RegionRouter r : routers) {
            r.selector().latencies().forEach((region, d) -> latencies.put(region, d.toNanos() / 1e9));
            for (String region : r.selector().regions()) {
                cooldowns.put(region, r.selector().cooldowns().getOrDefault(region, Duration.ZERO).toNanos() / 1e9);
            }
        }
        latencies.forEach((region, v) -> latency.dataPoint(gaugePoint(v, "region", region)));
        cooldowns.forEach((region, v) -> cooldown.dataPoint(gaugePoint(v, "region", region)));
        out.add(latency.build());
        out.add(cooldown.build());
    }

    private static void gauge(List<MetricSnapshot> out, List<PoolStats> stats, String name, String help,
            ToDoubleFunction<PoolStats> value) {
        GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(help);
        for (PoolStats s : stats) {
            b.dataPoint(gaugePoint(value.applyAsDouble(s), "pool", s.name()));
        }
        out.add(b.build());
    }

    private static void counter(List<MetricSnapshot> out, List<PoolStats> stats, String name, String help,
            ToDoubleFunction<PoolStats> value) {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
        for (PoolStats s : stats) {
            b.dataPoint(counterPoint(value.applyAsDouble(s), "pool", s.name()));
        }
        out.add(b.build());
    }

    private static GaugeDataPointSnapshot gaugePoint(double value, String... labels) {
        return GaugeDataPointSnapshot.builder().labels(Labels.of(labels)).value(value).build();
    }

    private static CounterDataPointSnapshot counterPoint(double value, String... labels) {
        return CounterDataPointSnapshot.builder().labels(Labels.of(labels)).value(value).build();
    }
}

package io.sluice.prometheus;

import io.sluice.pool.health.HealthMonitor;
import io.sluice.pool.health.HealthStatus;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.TlsStats;
import io.sluice.pool.AdaptiveScaler;
import io.sluice.pool.PoolStats;
import io.sluice.prometheus.PrometheusExporter;
import io.sluice.pool.ScalingDecision;
import io.sluice.routing.RegionRouter;
import io.sluice.websocket.WebSocketPool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One Prometheus text exposition (format 0.0.4) for everything Sluice runs: every HTTP
 * route pool of each client and every WebSocket pool (the pool metrics of
 * {@link PrometheusExporter}, with the standard pool names), TLS handshakes, health state,
 * scaler decisions, and region latencies and cooldowns. Serve {@link #scrape()} from your
 * metrics endpoint.
 *
 * <p>Pool labels are the pools' names: a route ({@code https://host:port}) for HTTP, and
 * the redacted URL for WebSocket pools, so no key-like query parameter reaches a label.
 *
 * <p><b>Thread-safety:</b> thread-safe: sources are added to copy-on-write lists and read
 * on each scrape. <b>Ownership:</b> reads its sources; closes nothing.
 */
public final class PrometheusMetrics {

    private final List<ConnectionPoolManager> clients = new CopyOnWriteArrayList<>();
    private final List<WebSocketPool> webSockets = new CopyOnWriteArrayList<>();
    private final List<HealthMonitor> monitors = new CopyOnWriteArrayList<>();
    private final List<AdaptiveScaler> scalers = new CopyOnWriteArrayList<>();
    private final List<RegionRouter> routers = new CopyOnWriteArrayList<>();

    public PrometheusMetrics client(ConnectionPoolManager client) {
        clients.add(Objects.requireNonNull(client, "client"));
        return this;
    }

    public PrometheusMetrics webSocket(WebSocketPool pool) {
        webSockets.add(Objects.requireNonNull(pool, "pool"));
        return this;
    }

    public PrometheusMetrics health(HealthMonitor monitor) {
        monitors.add(Objects.requireNonNull(monitor, "monitor"));
        return this;
    }

    public PrometheusMetrics scaler(AdaptiveScaler scaler) {
        scalers.add(Objects.requireNonNull(scaler, "scaler"));
        return this;
    }

    public PrometheusMetrics router(RegionRouter router) {
        routers.add(Objects.requireNonNull(router, "router"));
        return this;
    }

    /** The exposition text now. */
    public String scrape() {
        List<PoolStats> pools = new ArrayList<>();
        for (ConnectionPoolManager c : clients) {
            pools.addAll(c.allStats().values());
        }
        for (WebSocketPool w : webSockets) {
            pools.add(w.stats());
        }
        StringBuilder out = new StringBuilder(4096);
        out.append(PrometheusExporter.format(pools));
        appendTls(out);
        appendRouteCounters(out);
        appendHealth(out);
        appendScalers(out);
        appendRouters(out);
        return out.toString();
    }

    private void appendTls(StringBuilder out) {
        if (clients.isEmpty()) {
            return;
        }
        long full = 0;
        long resumed = 0;
        long failed = 0;
        double fullNanos = 0;
        double resumedNanos = 0;
        for (ConnectionPoolManager c : clients) {
            TlsStats t = c.tlsStats();
            full += t.fullHandshakes();
            resumed += t.resumedHandshakes();
            failed += t.failedHandshakes();
            fullNanos += t.meanFullNanos() * t.fullHandshakes();
            resumedNanos += t.meanResumedNanos() * t.resumedHandshakes();
        }
        header(out, "sluice_tls_handshakes_total", "counter", "TLS handshakes by kind");
        out.append("sluice_tls_handshakes_total{kind=\"full\"} ").append(full).append('\n');
        out.append("sluice_tls_handshakes_total{kind=\"resumed\"} ").append(resumed).append('\n');
        out.append("sluice_tls_handshakes_total{kind=\"failed\"} ").append(failed).append('\n');
        header(out, "sluice_tls_handshake_mean_seconds", "gauge", "Mean TLS handshake time by kind");
        out.append("sluice_tls_handshake_mean_seconds{kind=\"full\"} ").append(num(full == 0 ? 0 : fullNanos / full / 1e9)).append('\n');
        out.append("sluice_tls_handshake_mean_seconds{kind=\"resumed\"} ")
                .append(num(resumed == 0 ? 0 : resumedNanos / resumed / 1e9)).append('\n');
    }

    private void appendRouteCounters(StringBuilder out) {
        if (clients.isEmpty()) {
            return;
        }
        Map<String, io.sluice.http.RouteCounters> byRoute = new java.util.LinkedHashMap<>();
        for (ConnectionPoolManager c : clients) {
            for (io.sluice.http.Route r : c.routes()) {
                byRoute.put(r.toString(), c.counters(r));
            }
        }
        header(out, "sluice_connections_broken_total", "counter",
                "Pooled connections found broken between requests (passive detection), by reason");
        byRoute.forEach((pool, c) -> labelled(out, "sluice_connections_broken_total", pool, "reason", c.connectionsBroken()));
        header(out, "sluice_replays_total", "counter", "Requests replayed by the transport (never processed by the peer), by kind");
        byRoute.forEach((pool, c) -> labelled(out, "sluice_replays_total", pool, "kind", c.replays()));
        header(out, "sluice_request_failures_total", "counter", "Failures handed to callers, by error type");
        byRoute.forEach((pool, c) -> labelled(out, "sluice_request_failures_total", pool, "type", c.failures()));
        header(out, "sluice_route_ejected", "gauge", "1 while outlier detection has ejected the route");
        byRoute.forEach((pool, c) -> sample(out, "sluice_route_ejected", pool, c.ejected() ? 1 : 0));
        header(out, "sluice_route_ejections_total", "counter", "Times outlier detection ejected the route");
        byRoute.forEach((pool, c) -> sample(out, "sluice_route_ejections_total", pool, c.ejections()));
    }

    private static void labelled(StringBuilder out, String metric, String pool, String label, Map<String, Long> values) {
        values.forEach((k, v) -> out.append(metric).append("{pool=\"").append(PrometheusExporter.escape(pool))
                .append("\",").append(label).append("=\"").append(PrometheusExporter.escape(k)).append("\"} ")
                .append(v).append('\n'));
    }

    private void appendHealth(StringBuilder out) {
        if (monitors.isEmpty()) {
            return;
        }
        header(out, "sluice_health_up", "gauge", "1 when the pool's last health round passed");
        forEachStatus((pool, s) -> sample(out, "sluice_health_up", pool, s.healthy() ? 1 : 0));
        header(out, "sluice_health_consecutive_failures", "gauge", "Failed probes in a row, across rounds");
        forEachStatus((pool, s) -> sample(out, "sluice_health_consecutive_failures", pool, s.consecutiveFailures()));
        header(out, "sluice_health_success_ratio", "gauge", "Share of the last round's probes that succeeded");
        forEachStatus((pool, s) -> sample(out, "sluice_health_success_ratio", pool, s.successRate()));
        header(out, "sluice_health_latency_seconds", "gauge", "Mean latency of the last round's successful probes");
        forEachStatus((pool, s) -> sample(out, "sluice_health_latency_seconds", pool, s.averageLatency().toNanos() / 1e9));
    }

    private void forEachStatus(java.util.function.BiConsumer<String, HealthStatus> action) {
        for (HealthMonitor m : monitors) {
            m.statuses().forEach(action);
        }
    }

    private void appendScalers(StringBuilder out) {
        if (scalers.isEmpty()) {
            return;
        }
        header(out, "sluice_scaler_decisions_total", "counter", "Adaptive scaler decisions since it started, by action");
        for (AdaptiveScaler s : scalers) {
            Map<ScalingDecision.Action, Long> counts = s.decisionCounts();
            if (counts.values().stream().mapToLong(Long::longValue).sum() == 0) {
                continue;
            }
            for (ScalingDecision.Action a : ScalingDecision.Action.values()) {
                out.append("sluice_scaler_decisions_total{pool=\"").append(PrometheusExporter.escape(s.poolName()))
                        .append("\",action=\"").append(a.name().toLowerCase(Locale.ROOT)).append("\"} ")
                        .append(counts.getOrDefault(a, 0L)).append('\n');
            }
        }
        header(out, "sluice_scaler_last_utilisation", "gauge", "Utilisation the scaler saw in its last interval");
        for (AdaptiveScaler s : scalers) {
            List<ScalingDecision> ds = s.decisions();
            if (!ds.isEmpty()) {
                ScalingDecision last = ds.get(ds.size() - 1);
                sample(out, "sluice_scaler_last_utilisation", last.pool(), last.utilisation());
            }
        }
    }

    private void appendRouters(StringBuilder out) {
        if (routers.isEmpty()) {
            return;
        }
        header(out, "sluice_region_latency_seconds", "gauge", "Peak-EWMA latency per region");
        for (RegionRouter r : routers) {
            for (Map.Entry<String, Duration> e : r.selector().latencies().entrySet()) {
                regionSample(out, "sluice_region_latency_seconds", e.getKey(), e.getValue().toNanos() / 1e9);
            }
        }
        header(out, "sluice_region_cooldown_seconds", "gauge", "Time left in a region's Retry-After cooldown");
        for (RegionRouter r : routers) {
            for (String region : r.selector().regions()) {
                Duration left = r.selector().cooldowns().getOrDefault(region, Duration.ZERO);
                regionSample(out, "sluice_region_cooldown_seconds", region, left.toNanos() / 1e9);
            }
        }
    }

    private static void header(StringBuilder out, String metric, String type, String help) {
        out.append("# HELP ").append(metric).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(metric).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder out, String metric, String pool, double value) {
        out.append(metric).append("{pool=\"").append(PrometheusExporter.escape(pool)).append("\"} ").append(num(value))
                .append('\n');
    }

    private static void regionSample(StringBuilder out, String metric, String region, double value) {
        out.append(metric).append("{region=\"").append(PrometheusExporter.escape(region)).append("\"} ")
                .append(num(value)).append('\n');
    }

    private static String num(double v) {
        if (v == Math.rint(v) && !Double.isInfinite(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v);
    }
}

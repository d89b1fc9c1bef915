package io.sluice.prometheus;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.sluice.http.CallListener;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.pool.AdaptiveScaler;
import io.sluice.pool.Pool;
import io.sluice.pool.health.HealthMonitor;
import io.sluice.routing.RegionRouter;
import io.sluice.websocket.WebSocketPool;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Sluice's metrics on the official Prometheus Java client ({@code io.prometheus:prometheus-metrics-core}):
 * request, connection and pool metrics of HTTP clients, WebSocket pools, health, scaler and region
 * series, all under the {@code sluice_} prefix, plus the three standard names
 * {@code connection_pool_total}, {@code connection_pool_active} and
 * {@code connection_pool_wait_time_seconds}. {@code docs/metrics.md} lists every metric.
 *
 * <pre>{@code
 * PrometheusMetrics metrics = new PrometheusMetrics(PrometheusRegistry.defaultRegistry);
 * ConnectionPoolManager client = metrics.instrument(ConnectionPoolManager.builder()).build();
 * metrics.client(client);          // pool state of every route, including routes opened later
 * }</pre>
 *
 * <p>Request metrics (durations as histograms with classic and native buckets, counts by status class,
 * failures by phase and kind, replays, status retries, bytes) come from a {@link CallListener} factory
 * that {@link #instrument} adds to the client's builder; connect and TLS durations come from the first
 * call on each new connection. Pool states and counters are read from {@link ConnectionPoolManager#allStats()}
 * at scrape time. Labels are bounded: routes (never URLs), a fixed set of methods, status classes plus
 * the few statuses providers use (429, 529, 503...), failure kinds by exception type.
 *
 * <p>Expose it with any of the client's exporters on {@link #registry()} (the HTTP server, a servlet) or
 * with {@link #scrape()}. Use one {@code PrometheusMetrics} per registry: a second one on the same
 * registry is refused, because its metric names are already taken.
 *
 * <p><b>Thread-safety:</b> thread-safe: bind sources and scrape from any threads. <b>Ownership:</b>
 * reads the clients, pools, monitors, scalers and routers it is given; closes none of them. The
 * registry is the caller's when passed in.
 */
public final class PrometheusMetrics {

    private final PrometheusRegistry registry;
    private final RequestMetrics requests;
    private final StateCollector state = new StateCollector();

    /** Metrics in a registry of their own (see {@link #registry()}). */
    public PrometheusMetrics() {
        this(new PrometheusRegistry());
    }

    /**
     * Registers Sluice's metrics in {@code registry}.
     *
     * @throws IllegalArgumentException when the registry already has Sluice's metric names
     */
    public PrometheusMetrics(PrometheusRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.requests = new RequestMetrics(registry);
        registry.register(state);
    }

    /** The registry the metrics live in. */
    public PrometheusRegistry registry() {
        return registry;
    }

    /**
     * Adds the request metrics' listener factory to a client builder (factories add up: the user's own
     * listener keeps working). Returns the same builder.
     */
    public ConnectionPoolManager.Builder instrument(ConnectionPoolManager.Builder builder) {
        return builder.callListener(requests);
    }

    /** The request metrics' listener factory, for {@link ConnectionPoolManager.Builder#callListener}. */
    public CallListener.Factory callListenerFactory() {
        return requests;
    }

    /**
     * Exposes the pool state of every route of {@code client}, read at each scrape, so routes opened after
     * this call are there too; its TLS handshake counts; passive detection and outlier counters.
     * Request metrics need {@link #instrument} on the client's builder as well.
     */
    public PrometheusMetrics client(ConnectionPoolManager client) {
        state.clients.add(Objects.requireNonNull(client, "client"));
        return this;
    }

    /** Exposes a WebSocket pool's state, labelled with its (redacted) name. */
    public PrometheusMetrics webSocket(WebSocketPool pool) {
        state.webSockets.add(Objects.requireNonNull(pool, "pool"));
        return this;
    }

    /** Exposes any other pool's state, labelled with its name. */
    public PrometheusMetrics pool(Pool<?> pool) {
        state.pools.add(Objects.requireNonNull(pool, "pool"));
        return this;
    }

    /** Exposes the monitor's health state per pool. */
    public PrometheusMetrics health(HealthMonitor monitor) {
        state.monitors.add(Objects.requireNonNull(monitor, "monitor"));
        return this;
    }

    /** Exposes the scaler's decision counts and last utilisation. */
    public PrometheusMetrics scaler(AdaptiveScaler scaler) {
        state.scalers.add(Objects.requireNonNull(scaler, "scaler"));
        return this;
    }

    /**
     * Exposes a rate limiter (sluice-ratelimit, an optional dependency): requests admitted at once and after
     * waiting (and how long they waited), refused, 429s seen, fleet admissions and fallbacks, and per route what
     * is left of the budgets and how many requests wait.
     */
    public PrometheusMetrics rateLimiter(io.sluice.ratelimit.RateLimiter limiter) {
        state.limiters.add(Objects.requireNonNull(limiter, "limiter"));
        return this;
    }

    /** Exposes the router's region latencies and cooldowns. */
    public PrometheusMetrics router(RegionRouter router) {
        state.routers.add(Objects.requireNonNull(router, "router"));
        return this;
    }

    /**
     * The whole registry in the Prometheus text format 0.0.4 (which carries classic histograms; native
     * histograms travel in the protobuf format that the client's exporters offer).
     */
    public String scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        try {
            PrometheusTextFormatWriter.create().write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not throw
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}

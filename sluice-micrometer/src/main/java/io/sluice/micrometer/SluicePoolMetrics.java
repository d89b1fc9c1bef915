package io.sluice.micrometer;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.sluice.pool.CloseReason;
import io.sluice.pool.Pool;
import io.sluice.pool.PoolStats;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * A Micrometer {@link MeterBinder} for Sluice pools: the same figures as the Prometheus
 * text of {@code io.sluice.prometheus.PrometheusExporter} (gauges for open, idle, active,
 * pending, connecting and the current limit; counters for created, closed by reason,
 * failed connects, acquisitions, hits, misses, timeouts, exhausted; a function timer for
 * the acquire wait), tagged {@code pool} and {@code route}.
 *
 * <p>Pools added after {@link #bindTo} are registered on every registry already bound, so
 * an HTTP client's per-route pools, which open lazily, are all covered.
 *
 * <p><b>Thread-safety:</b> thread-safe. Each pool's snapshot is cached for
 * {@link #SNAPSHOT_TTL_NANOS} so one scrape does not copy its histogram once per meter.
 *
 * <p><b>Ownership:</b> holds the pools only to read them; does not close them.
 */
public final class SluicePoolMetrics implements MeterBinder {

    /** How long one pool snapshot serves all its meters. */
    static final long SNAPSHOT_TTL_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    private static final class Source {
        final Pool<?> pool;
        final String route;
        private PoolStats cached;
        private long cachedAt;

        Source(Pool<?> pool, String route) {
            this.pool = pool;
            this.route = route;
        }

        synchronized PoolStats stats() {
            long now = System.nanoTime();
            if (cached == null || now - cachedAt > SNAPSHOT_TTL_NANOS) {
                cached = pool.stats();
                cachedAt = now;
            }
            return cached;
        }
    }

    private final List<Source> sources = new CopyOnWriteArrayList<>();
    private final List<MeterRegistry> registries = new CopyOnWriteArrayList<>();

    /** Adds a pool; {@code route} is the tag value (e.g. {@code https://api.openai.com:443}). */
    public synchronized SluicePoolMetrics add(Pool<?> pool, String route) {
        Source s = new Source(Objects.requireNonNull(pool, "pool"), Objects.requireNonNull(route, "route"));
        sources.add(s);
        for (MeterRegistry r : registries) {
            register(r, s);
        }
        return this;
    }

    @Override
    public synchronized void bindTo(MeterRegistry registry) {
        registries.add(registry);
        for (Source s : sources) {
            register(registry, s);
        }
    }

    private static void register(MeterRegistry r, Source s) {
        Tags tags = Tags.of("pool", s.pool.name(), "route", s.route);
        gauge(r, "sluice.pool.connections.open", "Connections open, draining ones included", tags, s, PoolStats::open);
        gauge(r, "sluice.pool.connections.idle", "Open connections with no lease", tags, s, PoolStats::idle);
        gauge(r, "sluice.pool.connections.connecting", "Connections being opened", tags, s, PoolStats::connecting);
        gauge(r, "sluice.pool.connections.max", "Current maxConnections", tags, s, PoolStats::maxConnections);
        gauge(r, "sluice.pool.active", "Leases out (slots in use)", tags, s, PoolStats::leasesOut);
        gauge(r, "sluice.pool.pending", "Callers waiting for a slot", tags, s, PoolStats::pending);
        counter(r, "sluice.pool.connections.created", "Connections opened", tags, s, PoolStats::created);
        counter(r, "sluice.pool.connect.failures", "Failed connect attempts", tags, s, PoolStats::failedConnects);
        counter(r, "sluice.pool.connect.attempts", "Connect attempts started", tags, s, PoolStats::connectAttempts);
        counter(r, "sluice.pool.connect.backoffs", "Pauses after a connect gave up", tags, s, PoolStats::connectBackoffs);
        counter(r, "sluice.pool.acquisitions", "Successful acquires", tags, s, PoolStats::acquisitions);
        counter(r, "sluice.pool.hits", "Acquires served by an open connection", tags, s, PoolStats::hits);
        counter(r, "sluice.pool.misses", "Acquires that waited for a new connection", tags, s, PoolStats::misses);
        counter(r, "sluice.pool.timeouts", "Acquires that timed out", tags, s, PoolStats::timeouts);
        counter(r, "sluice.pool.exhausted", "Acquires refused: too many waiting", tags, s, PoolStats::exhausted);
        for (CloseReason reason : CloseReason.values()) {
            counter(r, "sluice.pool.connections.closed", "Connections closed, by reason",
                    tags.and("reason", reason.name().toLowerCase(Locale.ROOT)), s,
                    st -> st.closedByReason().getOrDefault(reason, 0L));
        }
        FunctionTimer.builder("sluice.pool.acquire.wait", s, src -> src.stats().acquisitions(),
                        src -> src.stats().waitTotalNanos(), TimeUnit.NANOSECONDS)
                .description("Time callers waited for a slot").tags(tags).register(r);
    }

    private static void gauge(MeterRegistry r, String name, String help, Tags tags, Source s,
            ToDoubleFunction<PoolStats> f) {
        Gauge.builder(name, s, src -> f.applyAsDouble(src.stats())).description(help).tags(tags).register(r);
    }

    private static void counter(MeterRegistry r, String name, String help, Tags tags, Source s,
            ToDoubleFunction<PoolStats> f) {
        FunctionCounter.builder(name, s, src -> f.applyAsDouble(src.stats())).description(help).tags(tags).register(r);
    }
}

package io.sluice.cli.bench;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.pool.Pool;
import io.sluice.pool.PoolConfig;
import io.sluice.pool.PoolStats;

/**
 * Phase 3, acquisition and reuse under steady load: {@code requests} {@code GET /ping} with
 * {@code concurrency} in flight over the default pool (the seed's settings: max 100, min idle 10),
 * TLS HTTP/2. Reports the pool's acquire-wait percentiles and hit rate ({@link PoolStats}), its
 * acquire-wait histogram, and the request latency.
 *
 * <p><b>Thread-safety:</b> stateless between runs; one run at a time.
 */
public final class AcquirePhase implements Phase {
    @Override
    public String id() {
        return "acquire";
    }

    @Override
    public PhaseResult run(BenchContext ctx) throws Exception {
        PhaseResult r = new PhaseResult(id(), "Acquisition and reuse under steady load");
        BenchOptions o = ctx.options();
        HttpRequest ping = BenchTarget.ping(ctx.target().main());
        try (ConnectionPoolManager client = ctx.target().client(PoolConfig.defaults())) {
            Pool<?> pool = client.pool(ping.route());
            pool.warmUp().get(30, java.util.concurrent.TimeUnit.SECONDS);
            TimeSeries conns = new TimeSeries("acquire-connections", "Connections during steady load",
                    java.util.List.of("open", "leases out", "waiting"));
            ctx.progress().start("acquire: steady load", o.requests(), pool::stats);
            LoadDriver load = new LoadDriver(ctx.progress());
            long start = System.nanoTime();
            try (Sampler s = Sampler.every(100, start, t -> {
                PoolStats st = pool.stats();
                conns.add(t, st.open(), st.leasesOut(), st.pending());
            })) {
                load.run(o.requests(), o.concurrency(), () -> true, i -> client.send(ping), 60);
            }
            long elapsed = System.nanoTime() - start;
            ctx.progress().finish();
            PoolStats st = pool.stats();
            r.metric("requests", o.requests());
            r.metric("concurrency", o.concurrency());
            r.metric("ok", load.ok());
            r.metric("failed", load.failed());
            if (!load.failures().isEmpty()) {
                r.metric("failures", load.failures());
            }
            r.metric("throughput_per_s", Math.round(load.ok() / (elapsed / 1e9)));
            r.metric("acquisitions", st.acquisitions());
            r.metric("hits", st.hits());
            r.metric("misses", st.misses());
            r.metric("hit_rate", Num.round(st.hitRate(), 6));
            r.metric("acquire_wait_p50_ms", Num.ms(st.waitP50Nanos()));
            r.metric("acquire_wait_p99_ms", Num.ms(st.waitP99Nanos()));
            r.metric("acquire_wait_max_ms", Num.ms(st.waitMaxNanos()));
            r.metric("acquire_wait_mean_ms", Num.round(st.waitMeanNanos() / 1e6, 4));
            r.metric("connections_created", st.created());
            r.metric("connections_open", st.open());
            r.metric("request_latency", load.latency().summaryMillis());
            r.latency("request", load.latency());
            r.acquireWaits(LatencyStats.of(pool.acquireWaits()));
            r.series(conns);
            r.note("Pool statistics cover every acquire of the phase, including the pre-warm of min idle"
                    + " connections; an acquire served at once counts as a zero wait.");
            return r.errors(load.failed());
        }
    }
}

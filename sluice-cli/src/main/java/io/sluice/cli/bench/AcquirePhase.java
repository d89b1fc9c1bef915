package io.sluice.cli.bench;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.pool.Pool;
import io.sluice.pool.PoolConfig;
import io.sluice.pool.PoolStats;

/**
 * Phase 3, acquisition and reuse under steady load: {@code requests} {@code GET /ping} with
 * {@code concurrency} in flight over the default pool (the seed's settings: max 100, min idle 10),
 * TLS HTTP/2. Reports the time an acquire call takes as a caller sees it ({@link AcquireTimer}, its
 * histogram), the pool's acquire-wait percentiles and hit rate ({@link PoolStats}), and the request
 * latency.
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
            AcquireTimer timer = new AcquireTimer(pool);
            try (Sampler s = Sampler.every(100, start, t -> {
                PoolStats st = pool.stats();
                conns.add(t, st.open(), st.leasesOut(), st.pending());
            }); AcquireTimer t = timer.start()) {
                load.run(o.requests(), o.concurrency(), () -> true, i -> client.send(ping), 60);
            }
            LatencyStats calls = timer.calls();
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
            r.metric("acquire_call_samples", calls.count());
            r.metric("acquire_call_p50_ns", calls.percentileNanos(50));
            r.metric("acquire_call_p99_ns", calls.percentileNanos(99));
            r.metric("acquire_call_max_ns", calls.maxNanos());
            if (timer.failure() != null) {
                r.metric("acquire_timer_failure", timer.failure().toString());
            }
            // Waits are often below a microsecond: nanoseconds keep them, the _ms values are rounded to 1 µs.
            r.metric("acquire_wait_p50_ns", st.waitP50Nanos());
            r.metric("acquire_wait_p99_ns", st.waitP99Nanos());
            r.metric("acquire_wait_max_ns", st.waitMaxNanos());
            r.metric("acquire_wait_p50_ms", Num.ms(st.waitP50Nanos()));
            r.metric("acquire_wait_p99_ms", Num.ms(st.waitP99Nanos()));
            r.metric("acquire_wait_max_ms", Num.ms(st.waitMaxNanos()));
            r.metric("acquire_wait_mean_ms", Num.round(st.waitMeanNanos() / 1e6, 4));
            r.metric("connections_created", st.created());
            r.metric("connections_open", st.open());
            r.metric("request_latency", load.latency().summaryMillis());
            r.latency("request", load.latency());
            r.acquireWaits(calls);
            r.series(conns);
            r.note("Acquire call: a side thread times pool.acquire() from the call to the lease in hand, every "
                    + AcquireTimer.PAUSE_MICROS + " µs while the load runs (" + calls.count() + " samples); the"
                    + " histogram shows these. Pool wait: the pool's own statistics over every acquire of the phase,"
                    + " including the pre-warm of min idle connections; an acquire served at once counts as a zero"
                    + " wait.");
            return r.errors(load.failed());
        }
    }
}

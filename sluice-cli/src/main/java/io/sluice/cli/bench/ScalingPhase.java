package io.sluice.cli.bench;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.Http2Settings;
import io.sluice.http.HttpRequest;
import io.sluice.pool.AdaptiveScaler;
import io.sluice.pool.Pool;
import io.sluice.pool.PoolConfig;
import io.sluice.pool.PoolStats;
import io.sluice.pool.ScalingDecision;
import io.sluice.pool.Ticker;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Phase 5, adaptive scaling. A pool of at most 10 one-request-at-a-time connections (HTTP/1.1 on the
 * mock's cleartext port; with a TLS-only {@code --url}, HTTP/2 capped at one stream per connection)
 * gets a burst of 200 requests in flight, each answered after 50 ms, so acquire waits pass the
 * scaler's 100 ms threshold and the pool grows; then an idle spell, where utilisation falls under
 * 30 % and the pool shrinks. The {@link AdaptiveScaler} runs with the seed's rules but its interval
 * shortened (1 s instead of 10 s) so the run stays short; every decision is reported.
 *
 * <p><b>Thread-safety:</b> stateless between runs; one run at a time.
 */
public final class ScalingPhase implements Phase {
    static final int START_MAX = 10;
    static final int IN_FLIGHT = 200;
    static final long DELAY_MS = 50;

    @Override
    public String id() {
        return "scaling";
    }

    @Override
    public PhaseResult run(BenchContext ctx) throws Exception {
        PhaseResult r = new PhaseResult(id(), "Adaptive scaling (burst, then idle)");
        BenchOptions o = ctx.options();
        URI base = ctx.target().http() != null ? ctx.target().http() : ctx.target().https();
        boolean http1 = ctx.target().http() != null;
        HttpRequest req = BenchTarget.chat(base, 4, DELAY_MS);
        PoolConfig config = PoolConfig.builder().maxConnections(START_MAX).minIdle(0)
                .connectionTimeout(Duration.ofSeconds(30)).build();
        Http2Settings h2 = http1 ? Http2Settings.defaults() : Http2Settings.defaults().withMaxConcurrentStreams(1);
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(t -> {
            Thread th = new Thread(t, "sluice-bench-scaler");
            th.setDaemon(true);
            return th;
        });
        List<ScalingDecision> decisions = new ArrayList<>();
        long start = System.nanoTime();
        try (ConnectionPoolManager client = ctx.target().client(config, h2, 0)) {
            Pool<?> pool = client.pool(req.route());
            AdaptiveScaler.Settings settings = AdaptiveScaler.Settings.defaults().withInterval(o.scalerInterval());
            TimeSeries size = new TimeSeries("scaling-pool", "Pool size over time (burst, then idle)",
                    List.of("max connections", "open connections", "waiting"));
            try (AdaptiveScaler scaler = new AdaptiveScaler(pool, settings, Ticker.system());
                 Sampler s = Sampler.every(100, start, t -> {
                     PoolStats st = pool.stats();
                     size.add(t, st.maxConnections(), st.open(), st.pending());
                 })) {
                scaler.addListener(d -> {
                    synchronized (decisions) {
                        decisions.add(d);
                    }
                });
                scaler.start(scheduler);
                ctx.progress().start("scaling: burst", 0, pool::stats);
                ctx.progress().detail("max " + pool.maxConnections());
                LoadDriver load = new LoadDriver(ctx.progress());
                long burstEnd = System.nanoTime() + o.scalingBurst().toNanos();
                load.run(0, IN_FLIGHT, () -> {
                    ctx.progress().detail("max connections " + pool.maxConnections());
                    return System.nanoTime() < burstEnd;
                }, i -> client.send(req), 60);
                ctx.progress().finish();
                ctx.progress().start("scaling: idle", 0, pool::stats);
                long idleEnd = System.nanoTime() + o.scalingIdle().toNanos();
                while (System.nanoTime() < idleEnd) {
                    ctx.progress().detail("max connections " + pool.maxConnections());
                    Thread.sleep(100);
                }
                ctx.progress().finish();
                int poolMaxAtEnd = pool.maxConnections();
                ScalingSummary summary;
                synchronized (decisions) {
                    summary = ScalingSummary.of(decisions, START_MAX, start, burstEnd);
                }
                PoolStats st = pool.stats();
                r.metric("protocol", http1 ? "HTTP/1.1 (cleartext)" : "HTTP/2, one stream per connection");
                r.metric("scaler_interval_s", o.scalerInterval().toMillis() / 1000.0);
                r.metric("seed_interval_s", 10);
                r.metric("in_flight", IN_FLIGHT);
                r.metric("response_delay_ms", DELAY_MS);
                r.metric("start_max_connections", START_MAX);
                r.metric("max_after_burst", summary.maxAfterBurst());
                r.metric("max_after_idle", summary.maxAfterIdle());
                r.metric("burst_end_s", Num.round((burstEnd - start) / 1e9, 2));
                r.metric("pool_max_at_end", poolMaxAtEnd);
                r.metric("grows", summary.growsInBurst());
                r.metric("shrinks", summary.shrinksInIdle());
                r.metric("grows_in_idle", summary.growsInIdle());
                r.metric("shrinks_in_burst", summary.shrinksInBurst());
                r.metric("requests_ok", load.ok());
                r.metric("failed", load.failed());
                if (!load.failures().isEmpty()) {
                    r.metric("failures", load.failures());
                }
                r.metric("acquire_wait_p99_ms", Num.ms(st.waitP99Nanos()));
                r.metric("decisions", summary.events());
                r.latency("request (burst)", load.latency());
                r.series(size);
                r.note("The scaler's interval was shortened to " + o.scalerInterval().toMillis()
                        + " ms for this run (the seed's is 10 s); thresholds are the seed's: mean wait > 100 ms"
                        + " grows by 20 %, utilisation < 30 % shrinks by 20 % (bounds 10..500).");
                return r.errors(load.failed());
            }
        } finally {
            scheduler.shutdownNow();
        }
    }
}

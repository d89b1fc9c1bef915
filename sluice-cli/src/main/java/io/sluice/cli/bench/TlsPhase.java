package io.sluice.cli.bench;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.Route;
import io.sluice.http.TlsStats;
import io.sluice.pool.Pool;
import io.sluice.pool.PoolConfig;
import java.net.URI;
import java.time.Duration;

/**
 * Phase 1, TLS handshakes through Sluice's own connect path. Each sample is one new connection
 * opened by the pool (TCP connect + TLS handshake, as {@link ConnectionPoolManager#tlsStats()} times
 * it), one request on it, then the connection is closed so the next request needs a new one.
 * <ul>
 *   <li>full: a fresh client per sample (a new TLS context, so an empty session cache);</li>
 *   <li>resumed: one client, connections opened one after another; the first is full, the rest
 *   resume the session.</li>
 * </ul>
 * Connections are opened one at a time, so each handshake's time is the difference of the client's
 * handshake time totals before and after it. A fresh client's event loop is first started with a
 * cleartext request when the target has a cleartext port, and 20 resumed connections are made before
 * the resumed samples; neither is counted.
 */
public final class TlsPhase implements Phase {
    /** Connections opened and closed before the resumed samples, not counted (JIT warm-up). */
    static final int WARMUP = 20;

    @Override
    public String id() {
        return "tls_handshake";
    }

    @Override
    public PhaseResult run(BenchContext ctx) throws Exception {
        PhaseResult r = new PhaseResult(id(), "TLS handshakes (full and resumed)");
        URI base = ctx.target().https();
        if (base == null) {
            return r.skip("the target is not https");
        }
        BenchOptions o = ctx.options();
        LatencyStats full = new LatencyStats();
        LatencyStats resumed = new LatencyStats();
        long[] errors = {0};
        PoolConfig config = PoolConfig.builder().maxConnections(1).minIdle(0).build();
        HttpRequest ping = BenchTarget.ping(base);
        Route route = ping.route();
        ctx.progress().start("tls: full handshakes", o.tlsFullSamples(), null);
        // One discarded client first: class loading and JIT would otherwise land on the first sample.
        for (int i = -1; i < o.tlsFullSamples(); i++) {
            try (ConnectionPoolManager client = ctx.target().client(config, io.sluice.http.Http2Settings.defaults(), 1)) {
                if (ctx.target().http() != null) {
                    // start the fresh client's event loop on the cleartext port, so the sample is the handshake
                    oneRequest(client, BenchTarget.ping(ctx.target().http()));
                }
                TlsStats before = client.tlsStats();
                if (!oneRequest(client, ping)) {
                    errors[0]++;
                    ctx.progress().error();
                    continue;
                }
                TlsStats after = client.tlsStats();
                if (i >= 0 && after.fullHandshakes() - before.fullHandshakes() == 1) {
                    full.record(after.fullNanosTotal() - before.fullNanosTotal());
                }
            }
            if (i >= 0) {
                ctx.progress().done(1);
            }
        }
        ctx.progress().finish();

        ctx.progress().start("tls: resumed handshakes", o.tlsResumedSamples(), null);
        long resumedCount = 0;
        long fullInResumedRun = 0;
        try (ConnectionPoolManager client = ctx.target().client(config, io.sluice.http.Http2Settings.defaults(), 1)) {
            Pool<?> pool = client.pool(route);
            for (int i = 0; i < WARMUP; i++) { // JIT warm-up of the connect path, not counted
                oneRequest(client, ping);
                closeConnection(pool);
            }
            for (int i = 0; i < o.tlsResumedSamples(); i++) {
                TlsStats before = client.tlsStats();
                if (!oneRequest(client, ping)) {
                    errors[0]++;
                    ctx.progress().error();
                    continue;
                }
                TlsStats after = client.tlsStats();
                if (after.resumedHandshakes() - before.resumedHandshakes() == 1) {
                    resumed.record(after.resumedNanosTotal() - before.resumedNanosTotal());
                    resumedCount++;
                } else if (after.fullHandshakes() - before.fullHandshakes() == 1) {
                    full.record(after.fullNanosTotal() - before.fullNanosTotal());
                    fullInResumedRun++;
                }
                closeConnection(pool);
                ctx.progress().done(1);
            }
            r.metric("tls_provider", client.tlsProvider());
            r.metric("native_transport", client.nativeTransport());
        }
        ctx.progress().finish();
        r.metric("full", full.summaryMillis());
        r.metric("resumed", resumed.summaryMillis());
        r.metric("full_p50_ms", Num.ms(full.percentileNanos(50)));
        r.metric("full_p99_ms", Num.ms(full.percentileNanos(99)));
        r.metric("resumed_p50_ms", Num.ms(resumed.percentileNanos(50)));
        r.metric("resumed_p99_ms", Num.ms(resumed.percentileNanos(99)));
        r.metric("resumed_share", Num.round(o.tlsResumedSamples() == 0 ? 0
                : (double) resumedCount / o.tlsResumedSamples(), 4));
        r.metric("full_in_resumed_run", fullInResumedRun);
        r.latency("full handshake", full).latency("resumed handshake", resumed);
        r.note("Each sample is TCP connect + TLS handshake of one new pooled connection, timed by the client"
                + " (ConnectionPoolManager.tlsStats()), one at a time, on loopback.");
        return r.errors(errors[0]);
    }

    private static boolean oneRequest(ConnectionPoolManager client, HttpRequest req) {
        try {
            return client.send(req).get(15, java.util.concurrent.TimeUnit.SECONDS).status() < 500;
        } catch (Exception e) {
            return false;
        }
    }

    /** Closes the (now idle) connection so that the next request opens a new one. */
    private static void closeConnection(Pool<?> pool) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (pool.stats().open() > 0 && System.nanoTime() < deadline) {
            if (pool.closeIdleConnections() == 0) {
                Thread.sleep(1); // the lease ends on the event loop, just after the response completed
            }
        }
    }
}

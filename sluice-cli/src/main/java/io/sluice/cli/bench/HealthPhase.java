package io.sluice.cli.bench;

import io.sluice.pool.health.HealthMonitor;
import io.sluice.pool.health.HealthStatus;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.pool.CloseReason;
import io.sluice.pool.Pool;
import io.sluice.pool.PoolConfig;
import io.sluice.pool.PoolStats;
import io.sluice.pool.Ticker;
import io.sluice.testkit.MockProvider;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Phase 6, health: steady load (64 requests in flight, TLS HTTP/2, default pool) while the embedded
 * mock kills every connection (TCP reset), then sends GOAWAY on every connection, then kills them
 * again. Bad connections must be noticed and replaced with no failed request. A {@link HealthMonitor}
 * with a shortened interval probes the route meanwhile. Needs the embedded mock (fault actions).
 *
 * <p><b>Thread-safety:</b> stateless between runs; one run at a time.
 */
public final class HealthPhase implements Phase {
    static final int IN_FLIGHT = 64;

    @Override
    public String id() {
        return "health";
    }

    @Override
    public PhaseResult run(BenchContext ctx) throws Exception {
        PhaseResult r = new PhaseResult(id(), "Health: connections killed and GOAWAY mid-run");
        if (!ctx.target().embedded()) {
            return r.skip("needs the embedded mock");
        }
        MockProvider mock = ctx.target().mock();
        BenchOptions o = ctx.options();
        // Declared idempotent, as a caller whose provider deduplicates by an idempotency key would: the kill cuts
        // requests the mock already received, and only an idempotent request may be sent again after that (a plain
        // POST fails with ConnectionLostException.possiblyProcessed(), since the provider may have billed it).
        HttpRequest req = BenchTarget.chat(ctx.target().main(), 4, 5).toBuilder().idempotent(true).build();
        HttpRequest probeReq = HttpRequest.newBuilder(ctx.target().main().resolve("/generate_204")).GET().build();
        ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1, t -> {
            Thread th = new Thread(t, "sluice-bench-health");
            th.setDaemon(true);
            return th;
        });
        try (ConnectionPoolManager client = ctx.target().client(PoolConfig.defaults());
             HealthMonitor monitor = new HealthMonitor(new HealthMonitor.Settings(Duration.ofMillis(500), 5,
                     Duration.ofSeconds(2)), scheduler, Ticker.system(), Clock.systemUTC())) {
            Pool<?> pool = client.pool(req.route());
            pool.warmUp().get(30, java.util.concurrent.TimeUnit.SECONDS);
            monitor.register("mock", pool, () -> client.send(probeReq).thenAccept(resp -> {
                if (resp.status() >= 300) {
                    throw new IllegalStateException("probe status " + resp.status());
                }
            }));
            monitor.start();
            PoolStats before = pool.stats();
            long acceptedBefore = mock.stats().connectionsAccepted();
            TimeSeries conns = new TimeSeries("health-connections", "Connections while faults are injected",
                    List.of("open connections", "created (total)", "closed (total)"));
            List<Map<String, Object>> faults = new ArrayList<>();
            AtomicLong okAfterLastFault = new AtomicLong();
            long[] lastFaultAt = {Long.MAX_VALUE};
            long start = System.nanoTime();
            long duration = o.healthDuration().toNanos();
            Runnable kill = () -> fault(faults, start, "kill connections (TCP reset)", pool, mock::killConnections);
            Runnable goAway = () -> fault(faults, start, "GOAWAY on every connection", pool, mock::goAwayAll);
            scheduler.schedule(kill, duration / 4, java.util.concurrent.TimeUnit.NANOSECONDS);
            scheduler.schedule(goAway, duration / 2, java.util.concurrent.TimeUnit.NANOSECONDS);
            scheduler.schedule(() -> {
                fault(faults, start, "kill connections (TCP reset)", pool, mock::killConnections);
                lastFaultAt[0] = System.nanoTime();
            }, duration * 3 / 4, java.util.concurrent.TimeUnit.NANOSECONDS);
            ctx.progress().start("health: faults", 0, pool::stats);
            LoadDriver load = new LoadDriver(ctx.progress());
            long end = start + duration;
            try (Sampler s = Sampler.every(100, start, t -> {
                PoolStats st = pool.stats();
                conns.add(t, st.open(), st.created(), st.closed());
            })) {
                load.run(0, IN_FLIGHT, () -> System.nanoTime() < end, i -> {
                    long started = System.nanoTime();
                    return client.send(req).thenAccept(resp -> {
                        if (resp.status() != 200) {
                            throw new IllegalStateException("HTTP " + resp.status());
                        }
                        if (started > lastFaultAt[0]) {
                            okAfterLastFault.incrementAndGet();
                        }
                    });
                }, 60);
            }
            ctx.progress().finish();
            PoolStats after = pool.stats();
            HealthStatus status = monitor.status("mock");
            Map<String, Long> closed = new LinkedHashMap<>();
            for (CloseReason reason : CloseReason.values()) {
                long n = after.closedByReason().getOrDefault(reason, 0L) - before.closedByReason()
                        .getOrDefault(reason, 0L);
                if (n > 0) {
                    closed.put(reason.name(), n);
                }
            }
            long replaced = after.created() - before.created();
            long badClosed = closed.values().stream().mapToLong(Long::longValue).sum();
            r.metric("in_flight", IN_FLIGHT);
            r.metric("duration_s", o.healthDuration().toMillis() / 1000.0);
            r.metric("faults", faults);
            r.metric("requests_ok", load.ok());
            r.metric("failed", load.failed());
            if (!load.failures().isEmpty()) {
                r.metric("failures", load.failures());
            }
            r.metric("ok_after_last_fault", okAfterLastFault.get());
            r.metric("connections_closed_by_reason", closed);
            r.metric("connections_closed", badClosed);
            r.metric("connections_replaced", replaced);
            r.metric("server_connections_accepted", mock.stats().connectionsAccepted() - acceptedBefore);
            r.metric("health_monitor", Map.of("healthy", status.healthy(),
                    "consecutive_failures", status.consecutiveFailures(),
                    "success_rate", Num.round(status.successRate(), 3)));
            r.metric("request_latency", load.latency().summaryMillis());
            r.latency("request (with faults)", load.latency());
            r.series(conns);
            r.note("Faults at 1/4, 1/2 and 3/4 of the run: kill (RST), GOAWAY, kill. The requests are declared"
                    + " idempotent: one on a killed connection with no response byte yet is replayed once by the"
                    + " transport (a plain POST would fail as possibly processed); GOAWAY drains.");
            return r.errors(load.failed());
        } finally {
            scheduler.shutdownNow();
        }
    }

    private static void fault(List<Map<String, Object>> faults, long start, String what, Pool<?> pool,
            Runnable action) {
        int openBefore = pool.stats().open();
        action.run();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("at_s", Num.round((System.nanoTime() - start) / 1e9, 2));
        m.put("action", what);
        m.put("open_connections_before", openBefore);
        synchronized (faults) {
            faults.add(m);
        }
    }
}

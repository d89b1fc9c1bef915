package io.sluice.cli.bench;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.StreamingResponse;
import io.sluice.pool.Pool;
import io.sluice.pool.PoolConfig;
import io.sluice.pool.PoolStats;
import io.sluice.testkit.MockBarrier;
import io.sluice.testkit.MockStats;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Phase 4, {@code streams} (10 000) streaming chat completions (SSE) started at once through a pool of
 * at most {@code streamConnections} (100) TLS HTTP/2 connections (the client caps a connection at 100
 * streams; the mock allows 256). Every stream is read event by event to its end. Reports errors, the
 * most streams open at once on one connection (the mock's counter; with {@code --url} a lower bound
 * from the pool: peak leases ÷ open connections), the most open at once overall, throughput and the
 * time to the last event.
 *
 * <p><b>Thread-safety:</b> stateless between runs; one run at a time.
 */
public final class StreamsPhase implements Phase {
    /**
     * How long the mock's barrier waits for the last stream before it answers the ones it holds: far
     * more than opening 10 000 streams takes on a loaded two-core machine (a few seconds), so a
     * timeout means the client could not open them all, not that the machine was slow.
     */
    static final long BARRIER_TIMEOUT_MS = 60_000;

    @Override
    public String id() {
        return "streams";
    }

    @Override
    public PhaseResult run(BenchContext ctx) throws Exception {
        PhaseResult r = new PhaseResult(id(), "Concurrent streaming chat completions (SSE) over HTTP/2");
        BenchOptions o = ctx.options();
        // The mock holds every response head until all streams that fit in the pool are open at the
        // server at once (a barrier), so "10 000 open at once" measures the client, not the machine.
        MockBarrier barrier = BenchTarget.streamBarrier("bench-streams", o.streams(), o.streamConnections(),
                BARRIER_TIMEOUT_MS);
        HttpRequest req = BenchTarget.chatStream(ctx.target().main(), o.streamTokens(), o.streamTokenDelayMs(), barrier);
        PoolConfig config = PoolConfig.builder().maxConnections(o.streamConnections()).minIdle(0)
                .maxPending(Math.max(PoolConfig.DEFAULT_MAX_PENDING, o.streams() * 2))
                .connectionTimeout(Duration.ofSeconds(60)).build();
        if (ctx.target().embedded()) {
            ctx.target().mock().resetCounters();
        }
        AtomicInteger open = new AtomicInteger();
        AtomicInteger peakOpen = new AtomicInteger();
        AtomicLong events = new AtomicLong();
        int[] peakLeases = {0};
        int[] openAtPeak = {0};
        try (ConnectionPoolManager client = ctx.target().client(config)) {
            Pool<?> pool = client.pool(req.route());
            TimeSeries conns = new TimeSeries("streams-connections", "Connections and open streams",
                    java.util.List.of("open connections", "streams open (client)", "leases out", "waiting"));
            ctx.progress().start("streams: " + o.streams() + " SSE", o.streams(), pool::stats);
            LoadDriver load = new LoadDriver(ctx.progress());
            long start = System.nanoTime();
            try (Sampler s = Sampler.every(100, start, t -> {
                PoolStats st = pool.stats();
                conns.add(t, st.open(), open.get(), st.leasesOut(), st.pending());
                synchronized (peakLeases) {
                    if (st.leasesOut() > peakLeases[0]) {
                        peakLeases[0] = st.leasesOut();
                        openAtPeak[0] = st.open();
                    }
                }
            })) {
                load.burst(o.streams(), i -> client.stream(req).thenCompose(resp -> {
                    peakOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
                    return readAll(resp, events).whenComplete((n, e) -> {
                        open.decrementAndGet();
                        resp.close();
                    });
                }), 120);
            }
            long elapsed = System.nanoTime() - start;
            ctx.progress().finish();
            PoolStats st = pool.stats();
            r.metric("streams", o.streams());
            r.metric("tokens_per_stream", o.streamTokens());
            r.metric("token_delay_ms", o.streamTokenDelayMs());
            r.metric("barrier_parties", barrier.parties());
            r.metric("barrier_timeout_s", BARRIER_TIMEOUT_MS / 1000);
            r.metric("ok", load.ok());
            r.metric("failed", load.failed());
            if (!load.failures().isEmpty()) {
                r.metric("failures", load.failures());
            }
            r.metric("events", events.get());
            r.metric("duration_s", Num.round(elapsed / 1e9, 3));
            r.metric("streams_per_s", Math.round(load.ok() / (elapsed / 1e9)));
            r.metric("events_per_s", Math.round(events.get() / (elapsed / 1e9)));
            r.metric("pool_max_connections", o.streamConnections());
            r.metric("connections_created", st.created());
            r.metric("peak_streams_open_client", peakOpen.get());
            r.metric("peak_leases", peakLeases[0]);
            long lowerBound = openAtPeak[0] == 0 ? 0 : (long) Math.ceil((double) peakLeases[0] / openAtPeak[0]);
            r.metric("max_streams_one_connection_lower_bound", lowerBound);
            if (ctx.target().embedded()) {
                MockStats m = ctx.target().mock().stats();
                r.metric("max_streams_one_connection", m.maxStreamsOnOneConnection());
                r.metric("max_streams_overall", m.maxStreamsOverall());
                r.metric("server_connections_accepted", m.connectionsAccepted());
                r.metric("barrier_timeouts", m.barrierTimeouts());
                r.metric("source", "mock counters");
            } else {
                r.metric("max_streams_one_connection", lowerBound);
                r.metric("max_streams_overall", peakOpen.get());
                r.metric("source", "client-side (peak leases / open connections)");
            }
            r.metric("time_to_last_event", load.latency().summaryMillis());
            r.metric("ttle_p50_ms", Num.ms(load.latency().percentileNanos(50)));
            r.metric("ttle_p99_ms", Num.ms(load.latency().percentileNanos(99)));
            r.latency("time to last event", load.latency());
            r.series(conns);
            r.note("All streams are started at once; the pool queues what does not fit and opens connections"
                    + " for the unmet demand, up to " + o.streamConnections() + ".");
            return r.errors(load.failed());
        }
    }

    /** Reads every SSE event of {@code resp}; completes with the count at the end of the body. */
    static CompletableFuture<Integer> readAll(StreamingResponse resp, AtomicLong events) {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        if (resp.status() != 200) {
            done.completeExceptionally(new IllegalStateException("HTTP " + resp.status()));
            return done;
        }
        step(resp, done, 0, events);
        return done;
    }

    private static void step(StreamingResponse resp, CompletableFuture<Integer> done, int n, AtomicLong events) {
        resp.nextEvent().whenComplete((ev, e) -> {
            if (e != null) {
                done.completeExceptionally(e);
            } else if (ev == null) {
                done.complete(n);
            } else {
                events.incrementAndGet();
                step(resp, done, n + 1, events);
            }
        });
    }
}

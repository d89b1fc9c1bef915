package io.sluice.cli.bench;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.pool.Pool;
import io.sluice.pool.PoolConfig;
import io.sluice.pool.PoolStats;
import io.sluice.testkit.MockBarrier;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The optional {@code streams_100k} phase ({@code ./sluice bench --100k}): 100 000 streaming chat
 * completions in flight at once over at most 1 000 TLS HTTP/2 connections (100 streams each), against
 * the mock in a process of its own (so the client's CPU and memory are its own), or {@code --url}.
 * The mock holds every head at a barrier until all streams are open, then streams 16 tokens 50 ms
 * apart. Reports errors, the peak of streams in flight, connections, the time from each response
 * head to its last event against the scripted time (tokens × delay), the client's CPU per SSE event,
 * and the client's heap and resident memory at the peak.
 *
 * <p><b>Thread-safety:</b> stateless between runs; one run at a time.
 */
public final class HundredKPhase implements Phase {
    static final int STREAMS = 100_000;
    static final int CONNECTIONS = 1_000;
    static final int TOKENS = 16;
    static final int TOKEN_DELAY_MS = 50;
    /** Opening 100 000 streams over 1 000 new TLS connections on two cores takes tens of seconds. */
    static final long BARRIER_TIMEOUT_MS = 180_000;

    private final int streams;
    private final int connections;

    public HundredKPhase() {
        this(STREAMS, CONNECTIONS);
    }

    /** A smaller run of the same shape, for tests. */
    HundredKPhase(int streams, int connections) {
        this.streams = streams;
        this.connections = connections;
    }

    @Override
    public String id() {
        return "streams_100k";
    }

    @Override
    public PhaseResult run(BenchContext ctx) throws Exception {
        PhaseResult r = new PhaseResult(id(), "100 000 concurrent streams (mock in its own process)");
        ExternalMock external = null;
        BenchTarget target = ctx.target();
        try {
            if (target.embedded()) {
                // Its own JVM: the client's CPU and memory below are then the client's alone.
                external = ExternalMock.start(List.of("--max-streams", "256"), "4g");
                target = BenchTarget.foreign(external.https(), external.certificatePath(), false);
            }
            return run(ctx, target, r, external != null);
        } finally {
            if (external != null) {
                target.close();
                external.close();
            }
        }
    }

    private PhaseResult run(BenchContext ctx, BenchTarget target, PhaseResult r, boolean ownProcess) throws Exception {
        MockBarrier barrier = BenchTarget.streamBarrier("bench-100k", streams, connections, BARRIER_TIMEOUT_MS);
        // The mock holds every head until the last stream is open, so the head may take as long as the
        // barrier; a stalled body, though, is still a failure at the usual body-idle limit.
        HttpRequest req = BenchTarget.chatStream(target.main(), TOKENS, TOKEN_DELAY_MS, barrier).toBuilder()
                .headersTimeout(Duration.ofMillis(BARRIER_TIMEOUT_MS).plusSeconds(60)).build();
        PoolConfig config = PoolConfig.builder().maxConnections(connections).minIdle(0)
                .maxPending(streams * 2).connectionTimeout(Duration.ofSeconds(240)).build();
        AtomicInteger open = new AtomicInteger();
        AtomicInteger peakOpen = new AtomicInteger();
        AtomicLong events = new AtomicLong();
        LatencyStats headToLast = new LatencyStats();
        long[] peakHeap = {0};
        long[] peakRss = {0};
        int[] peakLeases = {0};
        int[] peakConnections = {0};
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        var memory = ManagementFactory.getMemoryMXBean();
        try (ConnectionPoolManager client = target.client(config)) {
            Pool<?> pool = client.pool(req.route());
            ctx.progress().start("streams_100k: " + streams + " SSE", streams, pool::stats);
            LoadDriver load = new LoadDriver(ctx.progress());
            long cpu0 = os.getProcessCpuTime();
            long start = System.nanoTime();
            try (Sampler s = Sampler.every(250, start, t -> {
                PoolStats st = pool.stats();
                synchronized (peakLeases) {
                    if (st.leasesOut() > peakLeases[0]) {
                        peakLeases[0] = st.leasesOut();
                        peakConnections[0] = Math.max(peakConnections[0], st.open());
                        peakHeap[0] = memory.getHeapMemoryUsage().getUsed();
                        peakRss[0] = MemoryProbe.rssBytes();
                    }
                }
            })) {
                load.burst(streams, i -> client.stream(req).thenCompose(resp -> {
                    peakOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
                    long head = System.nanoTime();
                    CompletableFuture<Integer> all = StreamsPhase.readAll(resp, events);
                    return all.whenComplete((n, e) -> {
                        if (e == null) {
                            headToLast.record(System.nanoTime() - head);
                        }
                        open.decrementAndGet();
                        resp.close();
                    });
                }), 300);
            }
            long elapsed = System.nanoTime() - start;
            long cpu = os.getProcessCpuTime() - cpu0;
            ctx.progress().finish();
            PoolStats st = pool.stats();
            // The mock writes a token, waits the delay, and ends the stream one delay after the last token.
            double scriptedMs = TOKENS * (double) TOKEN_DELAY_MS;
            r.metric("streams", streams);
            r.metric("pool_max_connections", connections);
            r.metric("mock_in_own_process", ownProcess);
            r.metric("tokens_per_stream", TOKENS);
            r.metric("token_delay_ms", TOKEN_DELAY_MS);
            r.metric("ok", load.ok());
            r.metric("failed", load.failed());
            if (!load.failures().isEmpty()) {
                r.metric("failures", load.failures());
            }
            r.metric("events", events.get());
            r.metric("duration_s", Num.round(elapsed / 1e9, 3));
            r.metric("connections_created", st.created()); // a connection closed mid-run (a loaded machine) is replaced
            r.metric("peak_connections_open", peakConnections[0]);
            r.metric("peak_streams_open_client", peakOpen.get());
            r.metric("peak_leases", peakLeases[0]);
            r.metric("scripted_head_to_last_event_ms", scriptedMs);
            r.metric("head_to_last_event_p50_ms", Num.ms(headToLast.percentileNanos(50)));
            r.metric("head_to_last_event_p99_ms", Num.ms(headToLast.percentileNanos(99)));
            r.metric("head_to_last_event_p99_over_script", Num.round(headToLast.percentileNanos(99) / 1e6 / scriptedMs, 2));
            r.metric("client_cpu_s", Num.round(cpu / 1e9, 2));
            r.metric("client_cpu_us_per_event", events.get() == 0 ? 0 : Num.round(cpu / 1e3 / events.get(), 2));
            r.metric("client_cpu_us_per_stream", load.ok() == 0 ? 0 : Num.round(cpu / 1e3 / load.ok(), 1));
            r.metric("client_heap_used_at_peak_bytes", peakHeap[0]);
            r.metric("client_rss_at_peak_bytes", peakRss[0]);
            r.latency("head to last event", headToLast);
            r.note("Time from each response head to its last event; the script is " + TOKENS + " gaps of "
                    + TOKEN_DELAY_MS + " ms. Client CPU is this process's CPU time over the phase (both event loops,"
                    + " the callbacks and the load driver), divided by SSE events; the mock's CPU is its own process's.");
            return r.errors(load.failed());
        }
    }
}

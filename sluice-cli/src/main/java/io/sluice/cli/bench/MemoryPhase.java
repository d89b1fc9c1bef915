package io.sluice.cli.bench;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.Http2Settings;
import io.sluice.http.HttpRequest;
import io.sluice.http.TlsOptions;
import io.sluice.pool.Pool;
import io.sluice.pool.PoolConfig;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Phase 2, memory of idle pooled TLS HTTP/2 connections, in this (the client's) process.
 * <ol>
 *   <li>Warm-up: one request, then the measured number of connections is opened and closed again
 *   (so the baseline has the same allocator history), then the baseline is read (heap after GC,
 *   direct memory, RSS) with no connection open.</li>
 *   <li>{@code memoryConnections} (100) connections are opened (that many requests held at once on a
 *   client that takes one stream per connection, so each needs its own connection, at most 8 connects
 *   at a time; the connections stay TLS HTTP/2), then the streams are cancelled and the connections left
 *   idle in the pool; heap and direct memory are read again.
 *   The differences are the Java-side cost of the connections.</li>
 *   <li>Unless quick: native memory (BoringSSL keeps TLS state off the heap) from RSS growth between
 *   {@code nativeLow} (1000) and {@code nativeHigh} (5000) open connections, minus the growth of the
 *   used heap and of direct memory over the same step, per connection, scaled to 100 (an upper bound;
 *   the lower bound, with the committed heap subtracted instead, is reported too).</li>
 * </ol>
 * With the embedded mock the server runs in a separate JVM for this phase, so its side of each
 * connection is not counted; with {@code --url} the server is elsewhere anyway.
 */
public final class MemoryPhase implements Phase {
    @Override
    public String id() {
        return "memory";
    }

    @Override
    public PhaseResult run(BenchContext ctx) throws Exception {
        PhaseResult r = new PhaseResult(id(), "Memory of idle pooled TLS HTTP/2 connections");
        BenchOptions o = ctx.options();
        ExternalMock external = null;
        URI base;
        TlsOptions tls;
        if (ctx.target().embedded()) {
            external = ExternalMock.start(List.of());
            base = external.https();
            tls = TlsOptions.builder().trustCertificatePem(external.certificatePem()).build();
            r.note("The mock provider ran in a separate JVM (pid " + external.pid()
                    + ") for this phase, so only the client's memory is counted.");
        } else {
            base = ctx.target().main();
            tls = ctx.target().tls();
        }
        long fdLimit = MemoryProbe.openFileLimit();
        int low = o.nativeLow();
        int high = o.nativeHigh();
        if (high > 0 && fdLimit > 0 && fdLimit != Long.MAX_VALUE && high + 1000 > fdLimit) {
            int capped = (int) Math.max(0, fdLimit - 1000);
            r.note("ulimit -n is " + fdLimit + ": the native step uses " + capped + " instead of " + high
                    + " connections.");
            high = capped;
        }
        boolean nativeStep = !o.quick() && low > 0 && high > low * 2;
        int maxConns = Math.max(o.memoryConnections(), nativeStep ? high : 0);
        PoolConfig config = PoolConfig.builder().maxConnections(o.memoryConnections()).minIdle(0)
                .idleTimeout(Duration.ofMinutes(30)).maxLifetime(Duration.ofMinutes(60))
                .connectionTimeout(Duration.ofSeconds(30)).maxPending(Math.max(20_000, maxConns * 2)).build();
        // One stream per connection: N concurrent requests need N connections, which then stay idle.
        Http2Settings h2 = Http2Settings.defaults().withMaxConcurrentStreams(1);
        try (ConnectionPoolManager client = ConnectionPoolManager.builder().poolConfig(config).http2(h2).tls(tls)
                .statusRetries(false).ioThreads(2).build()) {
            HttpRequest warm = HttpRequest.newBuilder(base.resolve("/ping")).GET().build();
            Pool<?> pool = client.pool(warm.route());
            ctx.progress().start("memory: baseline", 1, () -> pool.stats().open());
            client.send(warm).get(30, java.util.concurrent.TimeUnit.SECONDS);
            ctx.progress().done(1);
            ctx.progress().finish();
            // Warm-up: open the same number of connections the same way and close them again, so the
            // baseline process has the same allocator history (pooled direct-memory chunks, JIT, classes)
            // and the difference is what keeping the connections open costs.
            openConnections(ctx, client, pool, base, o.memoryConnections(), 8);
            waitClosed(pool);
            MemoryProbe.Reading base0 = MemoryProbe.settleAndRead();

            int opened = openConnections(ctx, client, pool, base, o.memoryConnections(), 8);
            MemoryProbe.Reading at100 = MemoryProbe.settleAndRead();
            double heapPer = (double) (at100.heapUsed() - base0.heapUsed()) / opened;
            double directPer = (double) (at100.direct() - base0.direct()) / opened;
            int scale = 100;
            r.metric("connections", opened);
            r.metric("protocol", "TLS HTTP/2, idle in the pool");
            r.metric("tls_provider", client.tlsProvider());
            r.metric("heap_bytes_per_100", Math.round(heapPer * scale));
            r.metric("direct_bytes_per_100", Math.round(directPer * scale));
            r.metric("baseline", reading(base0));
            r.metric("at_" + opened, reading(at100));
            double nativePer = 0;
            if (nativeStep) {
                pool.setMaxConnections(high);
                int n1 = openConnections(ctx, client, pool, base, low, 64);
                MemoryProbe.Reading r1 = MemoryProbe.settleAndRead();
                int n2 = openConnections(ctx, client, pool, base, high, 64);
                MemoryProbe.Reading r2 = MemoryProbe.settleAndRead();
                int dn = Math.max(1, n2 - n1);
                long dRss = r2.rss() - r1.rss();
                long dHeapCommitted = r2.heapCommitted() - r1.heapCommitted();
                long dDirect = r2.direct() - r1.direct();
                // Upper bound, used for the criterion: RSS growth minus the growth of *used* heap and direct
                // memory. Heap pages touched by garbage stay resident, so this over-counts; subtracting the
                // committed heap instead under-counts (committed pages need not be resident). Both are reported.
                long dHeapUsed = r2.heapUsed() - r1.heapUsed();
                nativePer = Math.max(0, (double) (dRss - Math.max(0, dHeapUsed) - Math.max(0, dDirect)) / dn);
                double nativeLower = Math.max(0, (double) (dRss - Math.max(0, dHeapCommitted) - Math.max(0, dDirect)) / dn);
                r.metric("native_lower_bound_bytes_per_100", Math.round(nativeLower * scale));
                // conservative: when the allocator already held enough chunks at 100, count the marginal cost
                double marginalDirect = Math.max(0, (double) dDirect / dn);
                if (marginalDirect > directPer) {
                    directPer = marginalDirect;
                    r.metric("direct_bytes_per_100", Math.round(directPer * scale));
                    r.note("Direct memory counted at its marginal cost from the native step, which was higher than"
                            + " the difference measured at " + opened + " connections.");
                }
                r.metric("at_" + n1, reading(r1));
                r.metric("at_" + n2, reading(r2));
                r.metric("native_step", Map.of("from_connections", n1, "to_connections", n2,
                        "rss_growth_bytes", dRss, "heap_committed_growth_bytes", dHeapCommitted,
                        "heap_used_growth_bytes", r2.heapUsed() - r1.heapUsed(), "direct_growth_bytes", dDirect,
                        "rss_growth_per_connection_bytes", Math.round((double) dRss / dn)));
                r.metric("native_bytes_per_100", Math.round(nativePer * scale));
                r.note("Marginal direct memory between " + n1 + " and " + n2 + " connections: "
                        + Num.bytes((double) dDirect / dn * 100) + " per 100 (pooled-allocator chunks, not per-connection"
                        + " buffers, dominate small counts).");
                r.note("Native memory (counted): (RSS growth − used-heap growth − direct-memory growth) between "
                        + n1 + " and " + n2 + " open connections, per connection, × 100. It is an upper bound: heap"
                        + " pages touched by garbage stay resident. The lower bound subtracts the committed heap"
                        + " instead (native_lower_bound_bytes_per_100).");
            } else {
                r.metric("native_bytes_per_100", null);
                r.note(o.quick() ? "--quick: the native-memory (RSS) step was skipped; the total counts heap and"
                        + " direct memory only." : "The native-memory step was skipped (not enough file descriptors).");
            }
            r.metric("native_measured", nativeStep);
            long total = Math.round((heapPer + directPer + nativePer) * scale);
            r.metric("total_bytes_per_100", total);
        } finally {
            if (external != null) {
                external.close();
            }
        }
        return r;
    }

    private static Map<String, Object> reading(MemoryProbe.Reading m) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("heap_used_bytes", m.heapUsed());
        out.put("heap_committed_bytes", m.heapCommitted());
        out.put("direct_bytes", m.direct());
        out.put("rss_bytes", m.rss());
        return out;
    }

    /**
     * Brings the pool to {@code target} open connections. Each request is held (its response not yet
     * read) so its connection, which takes one stream, stays busy and the next request needs a new one;
     * at most {@code parallel} connects run at once, so the allocator is not grown by a connect storm.
     * Then every stream is cancelled and the connections go back to the pool idle.
     */
    private static int openConnections(BenchContext ctx, ConnectionPoolManager client, Pool<?> pool, URI base,
            int target, int parallel) throws Exception {
        ctx.progress().start("memory: open " + target, target, () -> pool.stats().open());
        // a stream that stays open (its second token is ten minutes away) until we cancel it
        HttpRequest req = BenchTarget.chatStream(base, 2, 600_000, 0);
        java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(parallel);
        List<java.util.concurrent.CompletableFuture<io.sluice.http.StreamingResponse>> held = new java.util.ArrayList<>();
        int toOpen = Math.max(0, target - pool.stats().open());
        // the already open connections are idle: hold one request on each of them too
        for (int i = 0; i < target; i++) {
            inFlight.acquire();
            java.util.concurrent.CompletableFuture<io.sluice.http.StreamingResponse> f = client.stream(req);
            f.whenComplete((resp, e) -> {
                inFlight.release();
                ctx.progress().done(1);
                if (e != null) {
                    ctx.progress().error();
                }
            });
            held.add(f);
        }
        int failed = 0;
        List<io.sluice.http.StreamingResponse> responses = new java.util.ArrayList<>();
        for (java.util.concurrent.CompletableFuture<io.sluice.http.StreamingResponse> f : held) {
            try {
                responses.add(f.get(60, java.util.concurrent.TimeUnit.SECONDS));
            } catch (Exception e) {
                failed++;
            }
        }
        int open = pool.stats().open();
        for (io.sluice.http.StreamingResponse resp : responses) {
            resp.close(); // RST_STREAM(CANCEL): the stream ends, the connection stays open and goes idle
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (pool.stats().leasesOut() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        ctx.progress().finish();
        if (failed > 0) {
            throw new IllegalStateException(failed + " of " + target + " requests failed while opening connections"
                    + " (" + toOpen + " new)");
        }
        return open;
    }

    private static void waitClosed(Pool<?> pool) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (pool.stats().open() > 0 && System.nanoTime() < deadline) {
            if (pool.closeIdleConnections() == 0) {
                Thread.sleep(2);
            }
        }
    }
}

package io.sluice.cli.soak;

import io.sluice.pool.health.OutlierDetector;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.Route;
import io.sluice.http.TlsOptions;
import io.sluice.pool.PoolConfig;
import io.sluice.pool.PoolStats;
import io.sluice.websocket.WebSocketPool;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Runs a soak: a mixed workload through one {@link ConnectionPoolManager} and one
 * {@link WebSocketPool} against an in-process mock, with faults injected at random, then drains
 * and checks the invariants every run must keep whatever the faults: no lease left out, no waiter
 * left pending, each pool's {@code open == idle + inUse + draining}, every request completed
 * within its deadline, no defect-type exception, no buffer leak.
 *
 * <p>Not thread-safe: one {@link #run} at a time per instance. Owns (and closes) the mock, the
 * client, the WebSocket pool and its worker threads for the duration of {@link #run}.
 */
public final class SoakRunner {
    /** Longest any request may take before it counts as never completed (client bounds are far lower). */
    static final long REQUEST_DEADLINE_MS = 30_000;
    /** How long leases get to come home after the load stops (releases are asynchronous). */
    private static final long DRAIN_MS = 10_000;
    private static final Duration OUTLIER_EJECTION = Duration.ofSeconds(1);

    private final SoakOptions options;

    public SoakRunner(SoakOptions options) {
        this.options = options;
    }

    /**
     * Runs the soak; {@code progress} is called about once a second with a one-line status (pass
     * {@code s -> {}} for none).
     */
    public SoakReport run(Consumer<String> progress) throws InterruptedException {
        LeakCounter.install();
        boolean leakDetection = LeakCounter.active();
        long leaksBefore = LeakCounter.leaks();
        resetHeapPeaks();
        SoakStats stats = new SoakStats();
        List<String> violations = new ArrayList<>();
        Map<String, String> poolLines = new LinkedHashMap<>();
        long replays;
        Map<String, Long> replaysByKind = new TreeMap<>();
        long leaked = 0;
        long pending = 0;
        long started;
        long loadMs;
        try (RestartableMock mock = new RestartableMock();
                ConnectionPoolManager client = ConnectionPoolManager.builder()
                        .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build())
                        .poolConfig(PoolConfig.builder().maxConnections(32).minIdle(2).build())
                        // Envoy's 30 s ejection would turn the rest of a short run into fast failures on
                        // the only route after one restart; a short one keeps the pools exercised.
                        .outlierDetection(new OutlierDetector.Settings(5, OUTLIER_EJECTION, OUTLIER_EJECTION.multipliedBy(5)))
                        .build();
                WebSocketPool websockets = WebSocketPool.builder(mock.wssUri())
                        .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build())
                        .poolConfig(PoolConfig.builder().maxConnections(8).minIdle(0).build())
                        .build()) {
            Workload workload = new Workload(client, websockets, mock.plainUri(), mock.tlsUri());
            FaultInjector injector = new FaultInjector(options.faults(), mock, workload, stats);
            started = System.nanoTime();
            long deadline = started + options.duration().toNanos();
            List<Thread> workers = startWorkers(workload, stats, deadline);
            injector.start();
            while (System.nanoTime() < deadline) {
                Thread.sleep(Math.min(1000, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
                progress.accept(progressLine(stats, started, client, websockets));
            }
            injector.stopAndAwait(REQUEST_DEADLINE_MS);
            for (Thread w : workers) {
                w.join(REQUEST_DEADLINE_MS * 2);
                if (w.isAlive()) {
                    violations.add("worker " + w.getName() + " did not finish");
                }
            }
            loadMs = (System.nanoTime() - started) / 1_000_000;
            Map<String, PoolStats> pools = drain(client, websockets);
            for (var e : pools.entrySet()) {
                PoolStats s = e.getValue();
                leaked += s.leasesOut();
                pending += s.pending();
                poolLines.put(e.getKey(), String.format("open=%d idle=%d inUse=%d draining=%d leasesOut=%d pending=%d "
                        + "created=%d closed=%d failedConnects=%d", s.open(), s.idle(), s.inUse(), s.draining(),
                        s.leasesOut(), s.pending(), s.created(), s.closed(), s.failedConnects()));
                if (s.open() != s.idle() + s.inUse() + s.draining()) {
                    violations.add("pool " + e.getKey() + ": open " + s.open() + " != idle " + s.idle() + " + inUse "
                            + s.inUse() + " + draining " + s.draining());
                }
            }
            for (Route r : client.routes()) {
                client.counters(r).replays().forEach((k, v) -> replaysByKind.merge(k, v, Long::sum));
            }
            replays = replaysByKind.values().stream().mapToLong(Long::longValue).sum();
        }
        // Closed everything first, so buffers held by connections are released before leaks are read.
        LeakCounter.flush();
        long leaks = LeakCounter.leaks() - leaksBefore;
        if (leaked > 0) {
            violations.add(leaked + " lease(s) still out after draining");
        }
        if (pending > 0) {
            violations.add(pending + " acquirer(s) still waiting after draining");
        }
        if (stats.hungRequests() > 0) {
            violations.add(stats.hungRequests() + " request(s) never completed within " + REQUEST_DEADLINE_MS + " ms");
        }
        if (stats.defects() > 0) {
            violations.add(stats.defects() + " request(s) failed with a programming error");
        }
        if (leaks > 0) {
            violations.add(leaks + " buffer leak report(s)");
        }
        if (!leakDetection) {
            violations.add("buffer leak detection was not active (Netty loaded before the soak installed it)");
        }
        return new SoakReport(loadMs, stats.requests(), stats.successes(), stats.byKind(), stats.failures(),
                stats.faults(), stats.injectedOutcomes(), replays, replaysByKind, leaked, pending,
                stats.hungRequests(), stats.defects(), leaks, leakDetection, violations, stats.samples(), poolLines,
                heapPeak());
    }

    private List<Thread> startWorkers(Workload workload, SoakStats stats, long deadline) {
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < options.concurrency(); i++) {
            Thread t = new Thread(() -> work(workload, stats, deadline), "sluice-soak-worker-" + i);
            t.setDaemon(true);
            t.start();
            workers.add(t);
        }
        return workers;
    }

    /** Requests back to back until the deadline; each must complete within its own deadline. */
    private static void work(Workload workload, SoakStats stats, long deadline) {
        RequestKind[] kinds = RequestKind.values();
        while (System.nanoTime() < deadline) {
            RequestKind kind = kinds[ThreadLocalRandom.current().nextInt(kinds.length)];
            CompletableFuture<Outcome> f = workload.run(kind, null);
            try {
                stats.record(kind, null, f.get(REQUEST_DEADLINE_MS, TimeUnit.MILLISECONDS));
            } catch (TimeoutException e) {
                stats.hung(kind, null);
                f.cancel(true);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                // Cannot happen: Workload futures complete with an outcome, never exceptionally.
                throw new IllegalStateException(e);
            }
        }
    }

    /** Waits for every lease to come home and every waiter to leave; returns the pools' final stats. */
    private static Map<String, PoolStats> drain(ConnectionPoolManager client, WebSocketPool websockets)
            throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DRAIN_MS);
        while (true) {
            Map<String, PoolStats> all = new LinkedHashMap<>();
            client.allStats().forEach((r, s) -> all.put(r.toString(), s));
            all.put(websockets.uri().toString(), websockets.stats());
            boolean quiet = all.values().stream().allMatch(s -> s.leasesOut() == 0 && s.pending() == 0
                    && s.connecting() == 0 && s.open() == s.idle() + s.inUse() + s.draining());
            if (quiet || System.nanoTime() > until) {
                return all;
            }
            Thread.sleep(50);
        }
    }

    private static String progressLine(SoakStats stats, long started, ConnectionPoolManager client,
            WebSocketPool websockets) {
        long leases = websockets.stats().leasesOut();
        for (PoolStats s : client.allStats().values()) {
            leases += s.leasesOut();
        }
        return String.format("soak %5.1fs  requests %7d  ok %7d  failed %5d  faults %4d  leases out %3d",
                (System.nanoTime() - started) / 1e9, stats.requests(), stats.successes(), stats.failuresTotal(),
                stats.faultsTotal(), leases);
    }

    private static void resetHeapPeaks() {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) {
                p.resetPeakUsage();
            }
        }
    }

    /** Sum of the heap pools' peaks: an upper bound of the peak heap in use (pools peak at different times). */
    private static long heapPeak() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
                sum += p.getPeakUsage().getUsed();
            }
        }
        return sum;
    }
}

package io.sluice.cli.soak;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Every few hundred milliseconds picks one enabled fault at random and injects it: a server-wide
 * action on the mock, or one extra request carrying the fault's knob on a random protocol. Outcomes
 * of injected requests are recorded as such, so expected failures are told apart from collateral
 * ones.
 *
 * <p>Owns one scheduler thread. Thread-safe: {@link #start()} and {@link #stopAndAwait} are called
 * by the runner's thread, the rest runs on the scheduler and the client's callback threads.
 */
final class FaultInjector {
    private static final long MIN_GAP_MS = 200;
    private static final long MAX_GAP_MS = 500;

    private final List<Fault> faults;
    private final RestartableMock mock;
    private final Workload workload;
    private final SoakStats stats;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sluice-soak-faults");
        t.setDaemon(true);
        return t;
    });
    /** Injected requests still running, with what they are, for the hung-request report. */
    private final ConcurrentHashMap<CompletableFuture<Outcome>, Map.Entry<RequestKind, Fault>> inFlight =
            new ConcurrentHashMap<>();
    private volatile boolean stopped;

    FaultInjector(Set<Fault> faults, RestartableMock mock, Workload workload, SoakStats stats) {
        this.faults = new ArrayList<>(faults);
        this.mock = mock;
        this.workload = workload;
        this.stats = stats;
    }

    void start() {
        if (!faults.isEmpty()) {
            scheduleNext();
        }
    }

    private void scheduleNext() {
        if (!stopped) {
            long gap = ThreadLocalRandom.current().nextLong(MIN_GAP_MS, MAX_GAP_MS + 1);
            scheduler.schedule(this::injectOne, gap, TimeUnit.MILLISECONDS);
        }
    }

    private void injectOne() {
        try {
            if (stopped) {
                return;
            }
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            Fault fault = faults.get(rnd.nextInt(faults.size()));
            stats.faultInjected(fault);
            if (fault.serverWide()) {
                mock.apply(fault);
                return;
            }
            boolean streaming = fault == Fault.CLOSE_AFTER_BYTES || fault == Fault.RESET || fault == Fault.STREAM_RESET
                    || rnd.nextBoolean();
            RequestKind kind = RequestKind.http(streaming, rnd.nextBoolean());
            CompletableFuture<Outcome> f = workload.run(kind, fault);
            inFlight.put(f, Map.entry(kind, fault));
            f.whenComplete((o, e) -> {
                inFlight.remove(f);
                stats.record(kind, fault, o);
            });
        } finally {
            scheduleNext();
        }
    }

    /**
     * Stops injecting and waits for injected requests still running; any not done by
     * {@code deadlineMs} is counted as hung.
     */
    void stopAndAwait(long deadlineMs) throws InterruptedException {
        stopped = true;
        scheduler.shutdown();
        scheduler.awaitTermination(deadlineMs, TimeUnit.MILLISECONDS);
        for (var e : Map.copyOf(inFlight).entrySet()) {
            try {
                e.getKey().get(deadlineMs, TimeUnit.MILLISECONDS);
            } catch (TimeoutException t) {
                stats.hung(e.getValue().getKey(), e.getValue().getValue());
            } catch (java.util.concurrent.ExecutionException x) {
                // Cannot happen: Workload futures complete with an outcome, never exceptionally.
                throw new IllegalStateException(x);
            }
        }
    }
}

package io.sluice.pool.health;

import io.sluice.pool.Pool;
import io.sluice.pool.Ticker;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks pools in the background: every {@link Settings#interval()} (30 s) it runs a
 * round of {@link Settings#probesPerRound()} (5) probes per registered pool, one after the
 * other, each bounded by {@link Settings#probeTimeout()}; a pool is healthy when more than
 * half succeed. Consecutive failures are counted across rounds (a success
 * resets them), an unhealthy pool's idle connections are closed so that no request is sent
 * on them and its minIdle top-up is paused until a round passes again (connections are
 * still opened for callers that need one, with the pool's connect backoff), and listeners
 * are told when a pool's health changes.
 *
 * <p><b>Thread-safety:</b> thread-safe. A pool has at most one round in flight (its
 * {@code round} reference is the guard); its status is published through a volatile
 * reference; listeners run outside any lock.
 *
 * <p><b>Ownership:</b> does not own the pools, probes or scheduler; {@link #close()} stops
 * only its own schedule.
 */
public final class HealthMonitor implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HealthMonitor.class);

    /**
     * Monitor settings.
     *
     * <p><b>Thread-safety:</b> immutable.
     */
    public record Settings(Duration interval, int probesPerRound, Duration probeTimeout) {
        /**
         * Every 30 s, 5 probes, each within 2 s: frequent enough to take a dead upstream out within a
         * minute, cheap enough (5 small requests per pool) to run against a paid API.
         */
        public static Settings defaults() {
            return new Settings(Duration.ofSeconds(30), 5, Duration.ofSeconds(2));
        }

        public Settings {
            Objects.requireNonNull(interval, "interval");
            Objects.requireNonNull(probeTimeout, "probeTimeout");
            if (interval.isZero() || interval.isNegative()) {
                throw new IllegalArgumentException("interval must be positive, was " + interval);
            }
            if (probesPerRound < 1) {
                throw new IllegalArgumentException("probesPerRound must be at least 1, was " + probesPerRound);
            }
            if (probeTimeout.isZero() || probeTimeout.isNegative()) {
                throw new IllegalArgumentException("probeTimeout must be positive, was " + probeTimeout);
            }
        }
    }

    private static final class Target {
        final String name;
        final Pool<?> pool;
        final HealthProbe probe;
        volatile HealthStatus status = HealthStatus.unknown();
        /** The round in flight, or null; set by CAS so rounds never overlap. */
        final AtomicReference<CompletableFuture<HealthStatus>> round = new AtomicReference<>();
        /** Owned by the round in flight. */
        int consecutiveFailures;

        Target(String name, Pool<?> pool, HealthProbe probe) {
            this.name = name;
            this.pool = pool;
            this.probe = probe;
        }
    }

    private final Settings settings;
    private final ScheduledExecutorService scheduler;
    private final Ticker ticker;
    private final Clock clock;
    private final Map<String, Target> targets = new ConcurrentHashMap<>();
    private final List<HealthListener> listeners = new CopyOnWriteArrayList<>();
    private volatile ScheduledFuture<?> schedule;

    /** A monitor using {@code scheduler} for probe timeouts and, once started, for its rounds. */
    public HealthMonitor(Settings settings, ScheduledExecutorService scheduler, Ticker ticker, Clock clock) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Monitors {@code pool} under {@code name} with {@code probe}; replaces an earlier registration of the name. */
    public void register(String name, Pool<?> pool, HealthProbe probe) {
        targets.put(name, new Target(name, Objects.requireNonNull(pool, "pool"), Objects.requireNonNull(probe, "probe")));
    }

    public void unregister(String name) {
        targets.remove(name);
    }

    public void addListener(HealthListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** The latest status of every registered pool. */
    public Map<String, HealthStatus> statuses() {
        Map<String, HealthStatus> out = new java.util.TreeMap<>();
        targets.values().forEach(t -> out.put(t.name, t.status));
        return out;
    }

    /** The latest status of {@code name}; {@link HealthStatus#unknown()} before its first round. */
    public HealthStatus status(String name) {
        Target t = targets.get(name);
        return t == null ? HealthStatus.unknown() : t.status;
    }

    /** Runs rounds every interval from now on. */
    public synchronized HealthMonitor start() {
        if (schedule == null) {
            long every = settings.interval().toNanos();
            schedule = scheduler.scheduleWithFixedDelay(this::checkAll, every, every, TimeUnit.NANOSECONDS);
        }
        return this;
    }

    private void checkAll() {
        for (Target t : targets.values()) {
            checkNow(t.name);
        }
    }

    /** Runs a round for {@code name} now, or joins the one in flight. */
    public CompletableFuture<HealthStatus> checkNow(String name) {
        Target t = targets.get(name);
        if (t == null) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("no pool registered as '" + name + "'"));
        }
        CompletableFuture<HealthStatus> mine = new CompletableFuture<>();
        if (!t.round.compareAndSet(null, mine)) {
            CompletableFuture<HealthStatus> running = t.round.get();
            return running != null ? running : checkNow(name);
        }
        probe(t, 0, 0, 0L, mine);
        return mine;
    }

    private void probe(Target t, int done, int successes, long latencySum, CompletableFuture<HealthStatus> round) {
        if (done == settings.probesPerRound()) {
            finish(t, successes, latencySum, round);
            return;
        }
        long start = ticker.nanoTime();
        CompletionStage<?> stage;
        try {
            stage = t.probe.probe();
        } catch (RuntimeException ex) {
            stage = CompletableFuture.failedFuture(ex);
        }
        within(stage).whenComplete((ok, err) -> {
            if (err == null) {
                synchronized (t) {
                    t.consecutiveFailures = 0;
                }
                probe(t, done + 1, successes + 1, latencySum + (ticker.nanoTime() - start), round);
            } else {
                synchronized (t) {
                    t.consecutiveFailures++;
                }
                LOG.debug("health probe of '{}' failed: {}", t.name, err.toString());
                probe(t, done + 1, successes, latencySum, round);
            }
        });
    }

    private CompletableFuture<Object> within(CompletionStage<?> stage) {
        CompletableFuture<Object> out = new CompletableFuture<>();
        ScheduledFuture<?> timer = scheduler.schedule(
                () -> out.completeExceptionally(new TimeoutException("probe exceeded " + settings.probeTimeout().toMillis() + " ms")),
                settings.probeTimeout().toNanos(), TimeUnit.NANOSECONDS);
        stage.whenComplete((v, err) -> {
            timer.cancel(false);
            if (err != null) {
                out.completeExceptionally(err);
            } else {
                out.complete(v);
            }
        });
        return out;
    }

    private void finish(Target t, int successes, long latencySum, CompletableFuture<HealthStatus> round) {
        int checks = settings.probesPerRound();
        int consecutive;
        synchronized (t) {
            consecutive = t.consecutiveFailures;
        }
        HealthStatus previous = t.status;
        HealthStatus current = new HealthStatus(successes > checks / 2, clock.instant(), consecutive,
                Duration.ofNanos(latencySum / Math.max(1, successes)), (double) successes / checks, previous.rounds() + 1);
        t.status = current;
        t.round.set(null);
        if (!current.healthy()) {
            // Pause the warm floor first, so the idle connections closed below are not reopened at once.
            t.pool.pauseReplenish(true);
            int closed = t.pool.closeIdleConnections();
            LOG.warn("pool '{}' is unhealthy ({} of {} probes succeeded, {} consecutive failures); closed {} idle connections",
                    t.name, successes, checks, consecutive, closed);
        }
        if (current.healthy()) {
            t.pool.pauseReplenish(false); // tops up to minIdle at once if the pool was paused
        }
        if (previous.healthy() != current.healthy()) {
            for (HealthListener l : listeners) {
                try {
                    l.healthChanged(t.name, previous, current);
                } catch (RuntimeException ex) {
                    LOG.warn("health listener failed", ex);
                }
            }
        }
        round.complete(current);
    }

    @Override
    public synchronized void close() {
        if (schedule != null) {
            schedule.cancel(false);
        }
    }
}

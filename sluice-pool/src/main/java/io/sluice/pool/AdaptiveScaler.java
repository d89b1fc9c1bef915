package io.sluice.pool;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resizes a live pool from its load: it calls {@link Pool#setMaxConnections}, so the running
 * pool grows and shrinks, not just a configuration value.
 *
 * <p>Every {@link Settings#interval()} (10 s) it evaluates the interval just ended:
 * <ul>
 *   <li><b>mean acquire wait</b> = (total wait of the acquires completed in the interval)
 *   ÷ (their number). Above {@link Settings#waitThreshold()} (100 ms) the limit grows by
 *   20 % ({@code max * 120 / 100}, at least +1), up to {@link Settings#upperBound()} (500).</li>
 *   <li>otherwise, <b>utilisation</b> = (mean over the interval's samples of leased slots)
 *   ÷ (mean over the same samples of the slots the open connections offer, i.e. the sum of
 *   their capacities). Samples are taken every {@link Settings#sampleInterval()}. When no
 *   connection was open in any sample, utilisation is 1 if anyone held or waited for a
 *   slot, else 0. Below {@link Settings#utilisationThreshold()} (0.3) the limit shrinks
 *   by 20 % ({@code max * 80 / 100}), down to {@link Settings#lowerBound()} (10).</li>
 * </ul>
 * Each evaluation is logged at INFO (when it changes the limit) and kept as a
 * {@link ScalingDecision} with its inputs; listeners are told of every decision.
 *
 * <p><b>Thread-safety:</b> sampling and evaluation run on the scheduler's thread (or the
 * test's thread when driven by hand) and are synchronized on this scaler; the decision
 * history and the per-action counts are guarded by the same monitor. The resize
 * ({@link Pool#setMaxConnections}) and listeners run outside it: a resize serves waiters,
 * and their continuations must not run under the scaler's lock. Two evaluations racing (a
 * scheduled one and one called by hand) may each resize from the limit they read; both
 * results are within the bounds.
 *
 * <p><b>Ownership:</b> does not own the pool or the scheduler; {@link #close()} only stops
 * its own tasks.
 */
public final class AdaptiveScaler implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AdaptiveScaler.class);
    private static final int HISTORY = 256;

    /**
     * The scaler's settings.
     *
     * <p><b>Thread-safety:</b> immutable.
     */
    public record Settings(Duration interval, Duration sampleInterval, Duration waitThreshold,
            double utilisationThreshold, int growPercent, int shrinkPercent, int upperBound, int lowerBound) {

        /**
         * Every 10 s: a mean acquire wait above 100 ms grows the pool by 20 % (up to 500), utilisation under
         * 30 % shrinks it by 20 % (down to 10); load is sampled every 500 ms. Steps of a fifth react within a
         * few intervals without overshooting a provider's connection limits.
         */
        public static Settings defaults() {
            return new Settings(Duration.ofSeconds(10), Duration.ofMillis(500), Duration.ofMillis(100), 0.3, 20, 20,
                    500, 10);
        }

        public Settings {
            Objects.requireNonNull(interval, "interval");
            Objects.requireNonNull(sampleInterval, "sampleInterval");
            Objects.requireNonNull(waitThreshold, "waitThreshold");
            if (interval.isZero() || interval.isNegative()) {
                throw new IllegalArgumentException("interval must be positive, was " + interval);
            }
            if (sampleInterval.isZero() || sampleInterval.isNegative() || sampleInterval.compareTo(interval) > 0) {
                throw new IllegalArgumentException("sampleInterval must be positive and at most interval, was " + sampleInterval);
            }
            if (lowerBound < 1 || upperBound < lowerBound) {
                throw new IllegalArgumentException("bounds must satisfy 1 <= lowerBound <= upperBound, were "
                        + lowerBound + " and " + upperBound);
            }
            if (growPercent <= 0 || shrinkPercent <= 0 || shrinkPercent >= 100) {
                throw new IllegalArgumentException("growPercent must be > 0 and shrinkPercent within (0, 100), were "
                        + growPercent + " and " + shrinkPercent);
            }
        }

        /** These settings with another evaluation interval (and the sample interval scaled to a tenth of it, if it would exceed it). */
        public Settings withInterval(Duration newInterval) {
            Duration sample = sampleInterval.compareTo(newInterval) > 0 ? newInterval.dividedBy(10) : sampleInterval;
            return new Settings(newInterval, sample, waitThreshold, utilisationThreshold, growPercent, shrinkPercent,
                    upperBound, lowerBound);
        }
    }

    private final Pool<?> pool;
    private final Settings settings;
    private final Ticker ticker;
    private final List<Consumer<ScalingDecision>> listeners = new CopyOnWriteArrayList<>();
    private final ArrayDeque<ScalingDecision> history = new ArrayDeque<>();
    /** Decisions taken since the scaler started, by action ordinal; never decreases (the history is bounded). Guarded by this. */
    private final long[] counts = new long[ScalingDecision.Action.values().length];
    private ScheduledFuture<?> sampling;
    private ScheduledFuture<?> evaluating;

    // Interval accumulators; guarded by this.
    private long leasedSum;
    private long capacitySum;
    private boolean demandSeen;
    private int samples;
    private long acquisitionsAtStart;
    private long waitNanosAtStart;

    /** A scaler for {@code pool}; call {@link #start(ScheduledExecutorService)} to run it on a schedule. */
    public AdaptiveScaler(Pool<?> pool, Settings settings, Ticker ticker) {
        this.pool = Objects.requireNonNull(pool, "pool");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        PoolLoad l = pool.load();
        acquisitionsAtStart = l.acquisitions();
        waitNanosAtStart = l.waitTotalNanos();
    }

    /** Starts sampling and evaluating on {@code scheduler}. */
    public synchronized AdaptiveScaler start(ScheduledExecutorService scheduler) {
        if (sampling == null) {
            long s = settings.sampleInterval().toNanos();
            long e = settings.interval().toNanos();
            sampling = scheduler.scheduleAtFixedRate(this::sampleSafely, s, s, TimeUnit.NANOSECONDS);
            evaluating = scheduler.scheduleAtFixedRate(this::evaluateSafely, e, e, TimeUnit.NANOSECONDS);
        }
        return this;
    }

    /** Listens to every decision; called on the evaluating thread, outside the scaler's lock. */
    public void addListener(Consumer<ScalingDecision> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** The settings in force. */
    public Settings settings() {
        return settings;
    }

    /** The most recent decisions, oldest first (at most 256). */
    public synchronized List<ScalingDecision> decisions() {
        return List.copyOf(history);
    }

    /** How many decisions of each action were taken since the scaler started: monotonic, unlike {@link #decisions()}. */
    public synchronized Map<ScalingDecision.Action, Long> decisionCounts() {
        Map<ScalingDecision.Action, Long> out = new EnumMap<>(ScalingDecision.Action.class);
        for (ScalingDecision.Action a : ScalingDecision.Action.values()) {
            out.put(a, counts[a.ordinal()]);
        }
        return out;
    }

    /** The name of the pool this scaler resizes. */
    public String poolName() {
        return pool.name();
    }

    private void sampleSafely() {
        try {
            sample();
        } catch (RuntimeException ex) {
            LOG.warn("scaler for pool '{}': sampling failed", pool.name(), ex);
        }
    }

    private void evaluateSafely() {
        try {
            evaluate();
        } catch (RuntimeException ex) {
            LOG.warn("scaler for pool '{}': evaluation failed", pool.name(), ex);
        }
    }

    /** Takes one load sample (runs every sampleInterval; tests call it directly). */
    public synchronized void sample() {
        PoolLoad l = pool.load();
        leasedSum += l.leasesOut();
        capacitySum += l.capacity();
        demandSeen |= l.leasesOut() > 0 || l.pending() > 0;
        samples++;
    }

    /** Evaluates the interval since the previous evaluation and resizes the pool (runs every interval; tests call it directly). */
    public ScalingDecision evaluate() {
        ScalingDecision d;
        synchronized (this) {
            if (samples == 0) {
                sample();
            }
            PoolLoad l = pool.load();
            long acquisitions = l.acquisitions() - acquisitionsAtStart;
            long waitNanos = l.waitTotalNanos() - waitNanosAtStart;
            double meanWaitMillis = acquisitions == 0 ? 0 : waitNanos / 1e6 / acquisitions;
            double utilisation;
            if (capacitySum == 0) {
                utilisation = demandSeen ? 1.0 : 0.0;
            } else {
                utilisation = Math.min(1.0, (double) leasedSum / capacitySum);
            }
            int from = pool.maxConnections();
            int to = from;
            ScalingDecision.Action action = ScalingDecision.Action.HOLD;
            if (meanWaitMillis > settings.waitThreshold().toNanos() / 1e6) {
                to = Math.min(settings.upperBound(), Math.max(from + 1, from * (100 + settings.growPercent()) / 100));
                if (to > from) {
                    action = ScalingDecision.Action.GROW;
                }
            } else if (utilisation < settings.utilisationThreshold()) {
                to = Math.max(settings.lowerBound(), from * (100 - settings.shrinkPercent()) / 100);
                if (to < from) {
                    action = ScalingDecision.Action.SHRINK;
                }
            }
            if (action == ScalingDecision.Action.HOLD) {
                to = from;
            }
            d = new ScalingDecision(ticker.nanoTime(), pool.name(), action, from, to, meanWaitMillis, utilisation,
                    acquisitions, samples);
            counts[action.ordinal()]++;
            history.addLast(d);
            if (history.size() > HISTORY) {
                history.removeFirst();
            }
            leasedSum = 0;
            capacitySum = 0;
            demandSeen = false;
            samples = 0;
            acquisitionsAtStart = l.acquisitions();
            waitNanosAtStart = l.waitTotalNanos();
        }
        if (d.to() != d.from()) {
            pool.setMaxConnections(d.to()); // outside the lock: it serves waiters, whose continuations run here
        }
        if (d.action() != ScalingDecision.Action.HOLD) {
            LOG.info("{}", d);
        } else {
            LOG.debug("{}", d);
        }
        for (Consumer<ScalingDecision> listener : listeners) {
            try {
                listener.accept(d);
            } catch (RuntimeException ex) {
                LOG.warn("scaler listener failed", ex);
            }
        }
        return d;
    }

    /** Stops sampling and evaluating. The pool keeps its current limit. */
    @Override
    public synchronized void close() {
        if (sampling != null) {
            sampling.cancel(false);
            evaluating.cancel(false);
        }
    }
}

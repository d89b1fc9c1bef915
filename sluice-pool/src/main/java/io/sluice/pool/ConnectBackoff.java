package io.sluice.pool;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiFunction;

/**
 * The pool-wide backoff after connects gave up: a route whose connects keep failing is not
 * pressed with replacements, neither by demand (waiters) nor by the minIdle top-up.
 *
 * <p>Each connect that exhausts its own retries ({@link PoolConfig#maxRetries()}) reports a
 * give-up. The first give-up of a round takes one step: the delay before the next connect is
 * {@code min(cap, base << (steps - 1))}, half of it fixed and half random (jitter), measured
 * on the pool's {@link Ticker}. Give-ups of connects started before that step (siblings of
 * the same top-up, say) do not step again, so ten connects failing together back off as one.
 * While backing off, no connect starts; once the delay has passed, the pool probes with one
 * connect at a time until one succeeds, which resets the backoff.
 *
 * <p><b>Thread-safety:</b> state changes ({@link #onGiveUp}, {@link #onSuccess}) are
 * synchronized on this object; the fields are volatile so the connect paths read them
 * without the lock (a stale read at worst lets one connect start on the edge of a step, or
 * delays one by a housekeeping round: benign).
 */
final class ConnectBackoff {

    private static final long MIN_WAKEUP_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private final long baseNanos;
    private final long capNanos;
    /** Consecutive backoff steps since the last successful connect; 0 means "not backing off". Written under this. */
    private volatile int steps;
    /** Ticker time before which no connect starts; meaningful only while {@link #steps} &gt; 0. Written under this. */
    private volatile long retryAtNanos;
    /**
     * Incremented by every step and every success: a connect remembers the epoch it started in,
     * and only a give-up from the current epoch takes a new step. Written under this.
     */
    private volatile long epoch;
    /** The last give-up's cause (unwrapped), for errors of waiters that time out meanwhile; cleared by a success. */
    private volatile Throwable lastFailure;
    /** Attempts given up so far in the last give-up. */
    private volatile int lastAttempts;
    /** At most one wake-up timer armed at a time; set by whoever arms it, cleared when it runs. */
    private final AtomicBoolean wakeupArmed = new AtomicBoolean();
    /** Steps taken since the pool started (monotonic; exported as connection_pool_connect_backoffs_total). */
    private final LongAdder stepsTotal = new LongAdder();

    ConnectBackoff(long baseNanos, long capNanos) {
        this.baseNanos = baseNanos;
        this.capNanos = Math.max(baseNanos, capNanos);
    }

    /** The epoch a connect starting now belongs to. */
    long epoch() {
        return epoch;
    }

    /** Whether the pool is backing off or probing (connects failed and none has succeeded since). */
    boolean failing() {
        return steps != 0;
    }

    /** Whether a connect may start at {@code now}: not failing, or the delay has passed. */
    boolean mayConnect(long now) {
        return steps == 0 || now - retryAtNanos >= 0;
    }

    /** Nanoseconds (on the ticker) until a connect may start; 0 when it may start now. */
    long remainingNanos(long now) {
        return steps == 0 ? 0 : Math.max(0, retryAtNanos - now);
    }

    /**
     * A connect started in {@code startEpoch} gave up after {@code attempts} attempts. Answers the
     * delay of the step taken, or -1 when the failure belonged to a round that already stepped.
     */
    synchronized long onGiveUp(long startEpoch, long now, Throwable cause, int attempts) {
        lastFailure = cause;
        lastAttempts = attempts;
        if (startEpoch != epoch && steps != 0) {
            return -1;
        }
        int s = steps + 1;
        long raw = baseNanos << Math.min(s - 1, 30);
        long capped = raw <= 0 || raw > capNanos ? capNanos : raw;
        long delay = capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
        steps = s;
        retryAtNanos = now + delay;
        epoch++;
        stepsTotal.increment();
        return delay;
    }

    /** A connect succeeded: the route works again. */
    synchronized void onSuccess() {
        if (steps != 0) {
            steps = 0;
            epoch++;
        }
        lastFailure = null;
    }

    /**
     * Runs {@code task} (the pool's drain loop) when the pause ends, so waiters still queued get
     * their probe without waiting for housekeeping. At most one such timer is armed at a time;
     * one that finds the pause not over yet (the ticker lags the scheduler) leads the drain loop
     * to arm the next. {@code schedule} answers null when the scheduler refuses (pool closing).
     */
    void armWakeup(long now, BiFunction<Runnable, Long, ScheduledFuture<?>> schedule, Runnable task) {
        if (!wakeupArmed.compareAndSet(false, true)) {
            return;
        }
        long delay = Math.max(remainingNanos(now), MIN_WAKEUP_NANOS);
        if (schedule.apply(() -> {
            wakeupArmed.set(false);
            task.run();
        }, delay) == null) {
            wakeupArmed.set(false);
        }
    }

    /** The last give-up's cause while failing, else null. */
    Throwable lastFailure() {
        return steps == 0 ? null : lastFailure;
    }

    int lastAttempts() {
        return lastAttempts;
    }

    long stepsTotal() {
        return stepsTotal.sum();
    }

    @Override
    public String toString() {
        return "ConnectBackoff[steps=" + steps + ", epoch=" + epoch + "]";
    }
}

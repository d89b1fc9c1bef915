package io.sluice.ratelimit;

import java.util.concurrent.CompletableFuture;

/**
 * The request budgets shared by a fleet of processes (one implementation: {@link RedisFleet}). The limiter
 * sees only this interface, so that a local-only limiter never loads Bucket4j or Lettuce (both optional).
 *
 * <p><b>Thread-safety:</b> implementations are thread-safe and never block: every Redis operation is
 * asynchronous and bounded by a timeout, after which the answer is "decide locally".
 */
interface Fleet extends AutoCloseable {

    /**
     * The fleet's answer for one attempt.
     *
     * @param taken     the attempt holds one request of the shared budget (it may have to wait {@code waitNanos}
     *                  before that request is its to use)
     * @param waitNanos with {@code taken}: how long until the reserved request is usable; without: how long until
     *                  one would fit (a request that waits longer than the provider's window is never taken)
     */
    record Answer(boolean taken, long waitNanos) {
    }

    /**
     * Asks the shared budget for one request of {@code b}: {@code reserve} (WAIT) takes it now and says when it is
     * usable; otherwise (FAIL) takes it only if it is free now.
     *
     * @return null when the fleet does not govern this budget now (no limit announced yet: the local budget admits
     *         freely; or Redis unavailable: the local budget decides); else a future that never fails and completes
     *         within the timeout, with null when Redis did not answer in time (decide locally)
     */
    CompletableFuture<Answer> acquire(Budget b, boolean reserve);

    /** An attempt that took a shared request did not use it (cancelled, refused locally, never sent). Best effort. */
    void giveBack(Budget b);

    /**
     * A response announced {@code b}'s request budget: {@code limit} per window, refilling at {@code perNano};
     * the shared bucket is created with it, or reconfigured when the limit changed. {@code ceiling} (when not
     * negative) is what the provider said remains less what this process has in flight: the shared bucket
     * cannot rightly hold more (others' requests in flight only lower the truth), so any excess is drained.
     */
    void learned(Budget b, long limit, double perNano, long ceiling);

    /** A 429 told {@code b} to wait {@code blockNanos}: the shared bucket is drained for that long (best effort). */
    void blocked(Budget b, long blockNanos);

    long admitted();

    long fallbacks();

    long errors();

    /** Whether Redis answered the last operation (false before the first connection and during an outage). */
    boolean available();

    /** Releases what the fleet owns (its Redis connection, its client when built from a URI); idempotent. */
    @Override
    void close();
}

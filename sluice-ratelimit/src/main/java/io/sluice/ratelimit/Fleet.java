package io.sluice.ratelimit;

import java.util.concurrent.CompletableFuture;

/**
 * The budgets shared by a fleet of processes (one implementation: {@link RedisFleet}): per route and key, one
 * shared bucket of requests and, once a token limit is announced, one of tokens. The limiter sees only this
 * interface, so that a local-only limiter never loads Bucket4j or Lettuce (both optional).
 *
 * <p><b>Thread-safety:</b> implementations are thread-safe and never block: every Redis operation is
 * asynchronous and bounded by a timeout, after which the answer is "decide locally".
 */
interface Fleet extends AutoCloseable {

    /**
     * What one attempt holds of the shared budgets, to be given back if the attempt never counts at the provider.
     *
     * @param request whether it holds one request of the shared request bucket
     * @param tokens  the tokens it holds of the shared token bucket (0: none)
     */
    record Held(boolean request, long tokens) {
    }

    /**
     * The fleet's answer for one attempt.
     *
     * @param taken     the attempt holds {@code held} of the shared budgets (it may have to wait {@code waitNanos}
     *                  before they are its to use)
     * @param waitNanos with {@code taken}: how long until the reservation is usable; without: how long until one
     *                  would fit
     * @param held      with {@code taken}: what the attempt holds; else null
     * @param blockedBy without {@code taken}: {@code requests} or {@code tokens}, the shared bucket that was short
     */
    record Answer(boolean taken, long waitNanos, Held held, String blockedBy) {
    }

    /**
     * Asks the shared budgets for one request of {@code b} costing {@code tokens}: {@code reserve} (WAIT) takes
     * both now and says when they are usable; otherwise (FAIL) takes them only if both are free now.
     *
     * @return null when the fleet does not govern this budget now (no limit announced yet: the local budget admits
     *         freely; or Redis unavailable: the local budget decides); else a future that never fails and completes
     *         within the timeout, with null when Redis did not answer in time (decide locally)
     */
    CompletableFuture<Answer> acquire(Budget b, boolean reserve, long tokens);

    /** An attempt that took {@code held} did not use it (cancelled, refused locally, never sent). Best effort. */
    void giveBack(Budget b, Held held);

    /**
     * A response announced one of {@code b}'s budgets ({@code tokens}: the token budget, else the request budget):
     * {@code limit} per window, refilling at {@code perNano}; the shared bucket is created with it, or
     * reconfigured when the limit changed. {@code ceiling} (when not negative) is what the provider said remains
     * less what this process has in flight: the shared bucket cannot rightly hold more (others' requests in flight
     * only lower the truth), so any excess is drained.
     */
    void learned(Budget b, boolean tokens, long limit, double perNano, long ceiling);

    /** A 429 told {@code b} to wait {@code blockNanos}: the shared request bucket is drained for that long (best effort). */
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

package io.sluice.ratelimit;

import java.util.List;

/**
 * A snapshot of a {@link RateLimiter}: its totals since it started, and each budget (route and key hash)
 * with what the client estimates is left.
 *
 * <p><b>Thread-safety:</b> immutable.
 *
 * @param admittedAtOnce attempts admitted without waiting
 * @param shaped         attempts that waited for room and were admitted
 * @param shapedNanos    the total time those waited
 * @param rejected       attempts refused with {@link io.sluice.http.RateLimitedException}
 * @param seen429        responses with status 429 that reached the limiter
 * @param fleetAdmitted  fleet mode: attempts granted a request by the shared budget in Redis
 * @param fleetFallbacks fleet mode: attempts decided by the local budget because Redis was unavailable or slow
 * @param redisErrors    fleet mode: Redis operations (admissions, connects, probes) that failed or timed out
 * @param fleetAvailable fleet mode: whether Redis answers now (false before it first connected)
 * @param budgets        each route and key's budget
 */
public record RateLimitStats(long admittedAtOnce, long shaped, long shapedNanos, long rejected, long seen429,
                             long fleetAdmitted, long fleetFallbacks, long redisErrors, boolean fleetAvailable,
                             List<BudgetStats> budgets) {

    /**
     * One budget.
     *
     * @param route             {@code scheme://host:port}
     * @param keyHash           the first 16 hex digits of the SHA-256 of the credential ({@code none} without one)
     * @param requestsAvailable the estimate of requests left now; NaN until a response announced the limit
     * @param tokensAvailable   the same for tokens
     * @param waiting           requests waiting for room
     */
    public record BudgetStats(String route, String keyHash, double requestsAvailable, double tokensAvailable,
                              int waiting) {
    }
}

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
     * The budgets summed up per route, as metrics label them (routes, not keys, so a service with many keys keeps
     * few series): the smallest estimate of what is left among the route's keys (NaN when none was announced)
     * and the requests waiting on all of them. The key hash of each entry is {@code *}.
     */
    public java.util.Map<String, BudgetStats> byRoute() {
        java.util.Map<String, BudgetStats> out = new java.util.TreeMap<>();
        for (BudgetStats b : budgets) {
            out.merge(b.route(), new BudgetStats(b.route(), "*", b.requestsAvailable(), b.tokensAvailable(), b.waiting()),
                    (x, y) -> new BudgetStats(x.route(), "*", min(x.requestsAvailable(), y.requestsAvailable()),
                            min(x.tokensAvailable(), y.tokensAvailable()), x.waiting() + y.waiting()));
        }
        return out;
    }

    /** The smaller of two estimates, NaN (unknown) only when both are. */
    private static double min(double a, double b) {
        return Double.isNaN(a) ? b : Double.isNaN(b) ? a : Math.min(a, b);
    }

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

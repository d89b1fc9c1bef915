package io.sluice.micrometer;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.ratelimit.RateLimitStats;
import io.sluice.ratelimit.RateLimiter;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The rate limiter's meters ({@link SluiceMeters#rateLimiter}); only loaded when a limiter is bound, since
 * sluice-ratelimit is an optional dependency. Counters read the limiter's lifetime totals; the per-route gauges
 * read the smallest estimate left among the route's keys and the waiters summed ({@link RateLimitStats#byRoute()}).
 * Each meter's function captures what it reads: Micrometer holds a meter's state object only weakly.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
final class RateLimitMeters {

    private RateLimitMeters() {
    }

    static void bind(MeterRegistry registry, RateLimiter limiter) {
        counter(registry, "sluice.ratelimit.admitted", "Attempts the rate limiter admitted, at once or after waiting",
                limiter, RateLimitStats::admittedAtOnce, "how", "at_once");
        counter(registry, "sluice.ratelimit.admitted", "Attempts the rate limiter admitted, at once or after waiting",
                limiter, RateLimitStats::shaped, "how", "waited");
        FunctionCounter.builder("sluice.ratelimit.wait", limiter, ignored -> limiter.stats().shapedNanos() / 1e9)
                .description("Total time admitted attempts waited for room").baseUnit("seconds").register(registry);
        counter(registry, "sluice.ratelimit.rejected", "Attempts refused with RateLimitedException (nothing sent)",
                limiter, RateLimitStats::rejected);
        counter(registry, "sluice.ratelimit.too.many.requests", "Responses with status 429 the rate limiter saw",
                limiter, RateLimitStats::seen429);
        counter(registry, "sluice.ratelimit.fleet.admitted", "Attempts admitted by the fleet budget in Redis",
                limiter, RateLimitStats::fleetAdmitted);
        counter(registry, "sluice.ratelimit.fleet.fallbacks",
                "Attempts decided by the local budget because Redis was slow or down", limiter,
                RateLimitStats::fleetFallbacks);
        counter(registry, "sluice.ratelimit.redis.errors", "Redis operations that failed or timed out", limiter,
                RateLimitStats::redisErrors);
        Gauge.builder("sluice.ratelimit.fleet.available", limiter, l -> l.stats().fleetAvailable() ? 1 : 0)
                .description("1 while the fleet budget in Redis answers").strongReference(true).register(registry);
    }

    static void route(MeterRegistry registry, List<Object> limiters, String route) {
        gauge(registry, "sluice.ratelimit.requests.available",
                "Requests left in the route's budget as the client estimates it (NaN until announced)", limiters, route,
                RateLimitStats.BudgetStats::requestsAvailable);
        gauge(registry, "sluice.ratelimit.tokens.available",
                "Tokens left in the route's budget as the client estimates it (NaN until announced)", limiters, route,
                RateLimitStats.BudgetStats::tokensAvailable);
        gauge(registry, "sluice.ratelimit.waiting", "Requests waiting for room in the route's budgets", limiters, route,
                RateLimitStats.BudgetStats::waiting);
    }

    private static void counter(MeterRegistry registry, String name, String help, RateLimiter limiter,
                                ToDoubleFunction<RateLimitStats> f, String... tags) {
        FunctionCounter.builder(name, limiter, ignored -> f.applyAsDouble(limiter.stats())).description(help).tags(tags)
                .register(registry);
    }

    private static void gauge(MeterRegistry registry, String name, String help, List<Object> limiters, String route,
                              ToDoubleFunction<RateLimitStats.BudgetStats> f) {
        Gauge.builder(name, limiters, ls -> {
            for (Object o : ls) { // the first limiter with a budget for the route, as the Prometheus binding does
                RateLimitStats.BudgetStats b = ((RateLimiter) o).stats().byRoute().get(route);
                if (b != null) {
                    return f.applyAsDouble(b);
                }
            }
            return Double.NaN;
        }).description(help).tags("route", route).strongReference(true).register(registry);
    }
}

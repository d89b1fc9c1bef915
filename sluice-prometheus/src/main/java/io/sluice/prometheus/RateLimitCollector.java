package io.sluice.prometheus;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.Unit;
import io.sluice.ratelimit.RateLimitStats;
import io.sluice.ratelimit.RateLimiter;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The rate limiters' series, read at each scrape from {@link RateLimiter#stats()}; only loaded when a limiter was
 * bound (sluice-ratelimit is an optional dependency). Counters are summed over the limiters; budgets are labelled
 * by route only (the smallest estimate left among the route's keys, the waiters summed), so the number of series
 * follows the routes, not the API keys.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
final class RateLimitCollector {

    private RateLimitCollector() {
    }

    static void collect(List<MetricSnapshot> out, List<Object> limiters) {
        long atOnce = 0;
        long shaped = 0;
        long shapedNanos = 0;
        long rejected = 0;
        long seen429 = 0;
        long fleet = 0;
        long fallbacks = 0;
        long redisErrors = 0;
        boolean fleetUp = false;
        Map<String, RateLimitStats.BudgetStats> routes = new TreeMap<>();
        for (Object o : limiters) {
            RateLimitStats s = ((RateLimiter) o).stats();
            atOnce += s.admittedAtOnce();
            shaped += s.shaped();
            shapedNanos += s.shapedNanos();
            rejected += s.rejected();
            seen429 += s.seen429();
            fleet += s.fleetAdmitted();
            fallbacks += s.fleetFallbacks();
            redisErrors += s.redisErrors();
            fleetUp |= s.fleetAvailable();
            s.byRoute().forEach(routes::putIfAbsent);
        }
        out.add(CounterSnapshot.builder().name("sluice_ratelimit_admitted")
                .help("Attempts the rate limiter admitted, at once or after waiting for room")
                .dataPoint(counter(atOnce, "how", "at_once")).dataPoint(counter(shaped, "how", "waited")).build());
        out.add(CounterSnapshot.builder().name("sluice_ratelimit_wait_seconds").unit(Unit.SECONDS)
                .help("Total time admitted attempts waited for room").dataPoint(counter(shapedNanos / 1e9)).build());
        out.add(CounterSnapshot.builder().name("sluice_ratelimit_rejected")
                .help("Attempts refused with RateLimitedException (nothing sent)").dataPoint(counter(rejected)).build());
        out.add(CounterSnapshot.builder().name("sluice_ratelimit_too_many_requests")
                .help("Responses with status 429 the rate limiter saw").dataPoint(counter(seen429)).build());
        out.add(CounterSnapshot.builder().name("sluice_ratelimit_fleet_admitted")
                .help("Attempts admitted by the fleet budget in Redis").dataPoint(counter(fleet)).build());
        out.add(CounterSnapshot.builder().name("sluice_ratelimit_fleet_fallbacks")
                .help("Attempts decided by the local budget because Redis was slow or down").dataPoint(counter(fallbacks))
                .build());
        out.add(CounterSnapshot.builder().name("sluice_ratelimit_redis_errors")
                .help("Redis operations that failed or timed out").dataPoint(counter(redisErrors)).build());
        out.add(GaugeSnapshot.builder().name("sluice_ratelimit_fleet_available")
                .help("1 while the fleet budget in Redis answers").dataPoint(gauge(fleetUp ? 1 : 0)).build());
        GaugeSnapshot.Builder requests = GaugeSnapshot.builder().name("sluice_ratelimit_requests_available")
                .help("Requests left in the route's budget as the client estimates it (NaN until announced)");
        GaugeSnapshot.Builder tokens = GaugeSnapshot.builder().name("sluice_ratelimit_tokens_available")
                .help("Tokens left in the route's budget as the client estimates it (NaN until announced)");
        GaugeSnapshot.Builder waiting = GaugeSnapshot.builder().name("sluice_ratelimit_waiting")
                .help("Requests waiting for room in the route's budgets");
        for (RateLimitStats.BudgetStats b : routes.values()) {
            requests.dataPoint(gauge(b.requestsAvailable(), "route", b.route()));
            tokens.dataPoint(gauge(b.tokensAvailable(), "route", b.route()));
            waiting.dataPoint(gauge(b.waiting(), "route", b.route()));
        }
        out.add(requests.build());
        out.add(tokens.build());
        out.add(waiting.build());
    }

    private static CounterDataPointSnapshot counter(double value, String... labels) {
        return CounterDataPointSnapshot.builder().labels(Labels.of(labels)).value(value).build();
    }

    private static GaugeDataPointSnapshot gauge(double value, String... labels) {
        return GaugeDataPointSnapshot.builder().labels(Labels.of(labels)).value(value).build();
    }
}

package io.sluice.spring.boot;

import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.micrometer.SluiceMeters;
import io.sluice.ratelimit.RateLimiter;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;

/**
 * The rate limiter's meters ({@code sluice.ratelimit.*}, docs/metrics.md) when rate limits are on and Micrometer and
 * {@code sluice-micrometer} are on the classpath: bound by {@link SluiceMeterBinder} on the same {@link SluiceMeters}
 * as the manager's, whose listener tells them of every route the manager opens, so the per-route budget gauges
 * follow the routes. An auto-configuration of its own, not a nested class of {@link SluiceRateLimitAutoConfiguration}:
 * a nested configuration would be picked up by an application's component scan of this package whatever the outer
 * class's conditions.
 *
 * <p><b>Thread-safety:</b> configuration, run once by Spring. <b>Ownership:</b> the meters read the limiter; they
 * close nothing.
 */
@AutoConfiguration(after = SluiceRateLimitAutoConfiguration.class)
@ConditionalOnClass({ RateLimiter.class, MeterRegistry.class, SluiceMeters.class })
@ConditionalOnBooleanProperty("sluice.rate-limits.enabled")
@ConditionalOnBean(RateLimiter.class)
public final class SluiceRateLimitMetricsAutoConfiguration {

    @Bean
    SluiceMeterBinder.Extra sluiceRateLimiterMeters(RateLimiter limiter) {
        return meters -> meters.rateLimiter(limiter);
    }
}

package io.sluice.spring.boot;

import io.sluice.ratelimit.RateLimiter;
import io.sluice.ratelimit.RedisBudgets;
import org.springframework.beans.factory.BeanClassLoaderAware;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.annotation.Order;
import org.springframework.util.ClassUtils;

/**
 * Rate limits for the shared manager, opt-in ({@code sluice.rate-limits.enabled=true}) and only with
 * {@code io.sluice:sluice-ratelimit} on the classpath: a {@link RateLimiter} bean built from
 * {@code sluice.rate-limits.*} (or the application's own {@code RateLimiter} bean instead), installed on the
 * auto-configured {@link io.sluice.http.ConnectionPoolManager}'s builder by a {@link SluiceClientCustomizer} as its
 * request admission ({@link SluiceRateLimitMetricsAutoConfiguration} adds its meters).
 * Fleet mode (budgets shared through Redis) when {@code sluice.rate-limits.fleet.redis-uri} is set, which then needs
 * Bucket4j and Lettuce: without them the context fails to start, naming the two artifacts.
 *
 * <p>A {@code ConnectionPoolManager} bean of the application's own gets no customizers, so no limiter: build it
 * with {@code limiter.instrument(builder)} from the {@code RateLimiter} bean.
 *
 * <p><b>Thread-safety:</b> configuration, run once by Spring. <b>Ownership:</b> the limiter bean belongs to the
 * application context, which closes it after the manager: the customizer that needs it is resolved while the
 * manager is being built, so the limiter is always fully created before the manager, and Spring destroys singletons
 * in the reverse order of their creation (a manager of the application's own that takes the limiter as a
 * parameter depends on it, which orders the two the same way).
 */
@AutoConfiguration
@ConditionalOnClass(RateLimiter.class)
@ConditionalOnBooleanProperty("sluice.rate-limits.enabled")
@EnableConfigurationProperties(SluiceProperties.class)
public final class SluiceRateLimitAutoConfiguration implements BeanClassLoaderAware {

    /** A class of each artifact fleet mode needs: Bucket4j's Lettuce integration, and Lettuce. */
    static final String BUCKET4J_LETTUCE = "io.github.bucket4j.redis.lettuce.Bucket4jLettuce";
    static final String LETTUCE = "io.lettuce.core.RedisClient";

    private ClassLoader classLoader = SluiceRateLimitAutoConfiguration.class.getClassLoader();

    @Override
    public void setBeanClassLoader(ClassLoader classLoader) {
        this.classLoader = classLoader; // the application's: what it can load is what fleet mode can use
    }

    /** Closed by the context (its inferred close method) after the manager that uses it. */
    @Bean
    @ConditionalOnMissingBean
    RateLimiter sluiceRateLimiter(SluiceProperties properties) {
        SluiceProperties.RateLimits p = properties.getRateLimits();
        RateLimiter.Builder b = RateLimiter.builder()
                .mode(p.getMode() == SluiceProperties.RateLimits.Mode.FAIL ? RateLimiter.Mode.FAIL : RateLimiter.Mode.WAIT)
                .maxWait(p.getMaxWait());
        SluiceProperties.RateLimits.Fleet fleet = p.getFleet();
        if (fleet.getRedisUri() != null && !fleet.getRedisUri().isBlank()) {
            requireFleetClasses();
            b.fleet(RedisBudgets.builder(fleet.getRedisUri()).keyPrefix(fleet.getKeyPrefix())
                    .timeout(fleet.getTimeout()).build());
        }
        return b.build();
    }

    /**
     * Refuses fleet mode when its optional libraries are missing, before RedisBudgets would fail with a bare
     * NoClassDefFoundError; the URI (it may carry a password) is not repeated in the message.
     */
    private void requireFleetClasses() {
        for (String name : new String[] { BUCKET4J_LETTUCE, LETTUCE }) {
            if (!ClassUtils.isPresent(name, classLoader)) {
                throw new IllegalStateException("sluice.rate-limits.fleet.redis-uri is set, so the rate limits are "
                        + "shared through Redis, which needs com.bucket4j:bucket4j_jdk17-lettuce and "
                        + "io.lettuce:lettuce-core on the classpath (" + name + " is missing): add both, or unset "
                        + "sluice.rate-limits.fleet.redis-uri for limits kept in this process only");
            }
        }
    }

    /**
     * Installs the limiter, the context's one (the application's own when it defines one), as the manager's request
     * admission. Early among customizers ({@code @Order(0)}; unordered ones come after): the builder has one
     * admission, and a customizer of the application's that sets its own should be the one that stays.
     */
    @Bean
    @Order(0)
    SluiceClientCustomizer sluiceRateLimitCustomizer(RateLimiter limiter) {
        return limiter::instrument;
    }
}

package io.sluice.spring.boot;

import io.sluice.http.ConnectionPoolManager;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * The {@code sluice} Actuator health contributor ({@link SluiceHealthContributor}, one member per route) when
 * Boot's health support is on the classpath; off with {@code management.health.sluice.enabled=false}.
 *
 * <p><b>Thread-safety:</b> configuration, run once by Spring. <b>Ownership:</b> the contributor reads the manager.
 */
@AutoConfiguration(after = SluiceAutoConfiguration.class)
@ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthContributor")
@ConditionalOnBean(ConnectionPoolManager.class)
@ConditionalOnEnabledHealthIndicator("sluice")
public final class SluiceHealthAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean(name = "sluiceHealthContributor")
    SluiceHealthContributor sluiceHealthContributor(ConnectionPoolManager manager) {
        return new SluiceHealthContributor(manager);
    }
}

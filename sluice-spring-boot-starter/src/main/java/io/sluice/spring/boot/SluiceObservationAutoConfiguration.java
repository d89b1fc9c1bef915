package io.sluice.spring.boot;

import io.micrometer.observation.ObservationRegistry;
import io.sluice.tracing.micrometer.SluiceObservationConvention;
import io.sluice.tracing.micrometer.SluiceObservations;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;

/**
 * Each request of the auto-configured client as a Micrometer Observation when {@code micrometer-observation} and
 * {@code sluice-tracing} are on the classpath: a {@link SluiceClientCustomizer} that adds
 * {@link SluiceObservations#observing} with the application's {@link ObservationRegistry} (Actuator's, which
 * turns each observation into the timer {@code sluice.http.client.requests} and, with a Micrometer Tracing
 * bridge, into a span whose {@code traceparent} goes to the provider) and its {@link SluiceObservationConvention}
 * bean if it has one. Without a registry bean, or with {@code sluice.observations.enabled=false}, nothing is added.
 *
 * <p><b>Thread-safety:</b> configuration, run once by Spring. <b>Ownership:</b> borrows the registry.
 */
@AutoConfiguration(before = SluiceAutoConfiguration.class)
@ConditionalOnClass({ ObservationRegistry.class, SluiceObservations.class })
@ConditionalOnProperty(prefix = "sluice.observations", name = "enabled", havingValue = "true", matchIfMissing = true)
public final class SluiceObservationAutoConfiguration {

    @Bean
    SluiceClientCustomizer sluiceObservationCustomizer(ObjectProvider<ObservationRegistry> registry,
                                                       ObjectProvider<SluiceObservationConvention> convention) {
        // Looked up when the manager is built, not now: the registry's own auto-configuration may come later.
        return builder -> {
            ObservationRegistry r = registry.getIfAvailable();
            if (r != null && !r.isNoop()) {
                builder.callListener(SluiceObservations.observing(r, convention.getIfAvailable()));
            }
        };
    }
}

package io.sluice.spring.boot;

import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.micrometer.SluiceMeters;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Sluice's meters in Micrometer when {@code micrometer-core} and {@code sluice-micrometer} are on the classpath
 * (Actuator brings the first): a {@link SluiceMeterBinder} bean, which Boot binds to every registry, and the
 * customizer through which the auto-configured manager records request meters (durations, statuses, failures,
 * bytes: see docs/metrics.md) for every route, those it opens later included.
 *
 * <p><b>Thread-safety:</b> configuration, run once by Spring. <b>Ownership:</b> the binder reads the manager only.
 */
@AutoConfiguration(before = SluiceAutoConfiguration.class)
@ConditionalOnClass({ MeterRegistry.class, SluiceMeters.class })
public final class SluiceMetricsAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    SluiceMeterBinder sluiceMeterBinder(ObjectProvider<MeterRegistry> registries,
                                        ObjectProvider<ConnectionPoolManager> managers,
                                        ObjectProvider<SluiceMeterBinder.Extra> extras) {
        return new SluiceMeterBinder(registries, managers, extras);
    }

    @Bean
    SluiceClientCustomizer sluiceMetersCustomizer(SluiceMeterBinder binder) {
        return binder.customizer();
    }
}

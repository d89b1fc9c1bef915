package io.sluice.spring.boot;

import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.micrometer.SluicePoolMetrics;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Sluice's pool meters in Micrometer when {@code micrometer-core} and {@code sluice-micrometer} are on the classpath
 * (Actuator brings the first): a {@link SluiceMeterBinder} bean, which Boot binds to every registry. Routes the
 * auto-configured manager opens later are added as their first request goes out; for a manager bean of your own,
 * the routes open when the registry binds (call {@link SluiceMeterBinder#addRoute} for others).
 *
 * <p><b>Thread-safety:</b> configuration, run once by Spring. <b>Ownership:</b> the binder reads the manager only.
 */
@AutoConfiguration(after = SluiceAutoConfiguration.class)
@ConditionalOnClass({ MeterRegistry.class, SluicePoolMetrics.class })
@ConditionalOnBean(ConnectionPoolManager.class)
public final class SluiceMetricsAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    SluiceMeterBinder sluiceMeterBinder(ConnectionPoolManager manager, ObjectProvider<SluiceRouteWatcher> routes) {
        SluiceMeterBinder binder = new SluiceMeterBinder(manager);
        routes.ifAvailable(w -> w.onNewRoute(binder::addRoute));
        return binder;
    }
}

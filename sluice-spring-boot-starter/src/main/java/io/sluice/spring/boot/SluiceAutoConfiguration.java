package io.sluice.spring.boot;

import io.sluice.http.ConnectionPoolManager;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.annotation.Bean;

/**
 * The shared {@link ConnectionPoolManager}, built from the {@code sluice.*} properties ({@link SluiceProperties}) and
 * then every {@link SluiceClientCustomizer} bean; TLS material from the SSL bundle {@code sluice.tls.bundle} names.
 * A {@code ConnectionPoolManager} bean of your own replaces it (and the customizers are then not applied).
 *
 * <p>Closing the context drains first ({@code sluice.shutdown.drain-timeout}), then destroys the beans using the
 * manager, then the manager.
 *
 * <p><b>Thread-safety:</b> configuration, run once by Spring. <b>Ownership:</b> the manager bean belongs to the
 * application context, which closes it.
 */
@AutoConfiguration(afterName = "org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration")
@EnableConfigurationProperties(SluiceProperties.class)
public final class SluiceAutoConfiguration {

    /** Destroyed after every bean that was built with it (Spring destroys dependents first). */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    ConnectionPoolManager sluiceConnectionPoolManager(SluiceProperties properties, ObjectProvider<SslBundles> bundles,
            ObjectProvider<SluiceClientCustomizer> customizers) {
        ConnectionPoolManager.Builder builder = SluiceManagers.builder(properties, bundles.getIfAvailable());
        customizers.orderedStream().forEach(c -> c.customize(builder));
        return builder.build();
    }

    @Bean
    @ConditionalOnBean(ConnectionPoolManager.class)
    SluiceDrain sluiceDrain(ConnectionPoolManager manager, SluiceProperties properties) {
        return new SluiceDrain(manager, properties.getShutdown().getDrainTimeout());
    }
}

package io.sluice.spring.boot;

import io.sluice.http.ConnectionPoolManager;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.http.client.ClientHttpRequestFactoryBuilder;
import org.springframework.boot.http.client.reactive.ClientHttpConnectorBuilder;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Makes Sluice the HTTP client of Boot's {@code RestClient.Builder}, {@code RestTemplateBuilder} and
 * {@code WebClient.Builder}: it offers the {@link ClientHttpRequestFactoryBuilder} and
 * {@link ClientHttpConnectorBuilder} beans that Boot's HTTP client auto-configuration would otherwise pick by
 * classpath detection. Boot's {@code spring.http.clients.*} settings (timeouts) still apply through them.
 *
 * <p>It steps aside, leaving Boot's choice untouched, when the application defines its own builder bean, when
 * {@code spring.http.clients.imperative.factory} (or {@code spring.http.client.factory}) /
 * {@code spring.http.clients.reactive.connector} (or {@code spring.http.reactiveclient.connector}) name a client, or
 * when {@code sluice.http-clients.enabled=false}.
 *
 * <p><b>Thread-safety:</b> configuration, run once by Spring. <b>Ownership:</b> the builders use the shared manager,
 * which the context owns.
 */
@AutoConfiguration(after = SluiceAutoConfiguration.class, beforeName = {
        "org.springframework.boot.http.client.autoconfigure.imperative.ImperativeHttpClientAutoConfiguration",
        "org.springframework.boot.http.client.autoconfigure.reactive.ReactiveHttpClientAutoConfiguration",
        "org.springframework.boot.restclient.autoconfigure.RestClientAutoConfiguration",
        "org.springframework.boot.restclient.autoconfigure.RestTemplateAutoConfiguration",
        "org.springframework.boot.webclient.autoconfigure.WebClientAutoConfiguration" })
@ConditionalOnClass(name = "org.springframework.boot.http.client.HttpClientSettings")
@ConditionalOnBooleanProperty(name = "sluice.http-clients.enabled", matchIfMissing = true)
@ConditionalOnBean(ConnectionPoolManager.class)
public final class SluiceHttpClientAutoConfiguration {

    static SslBundle managerBundle(SluiceProperties properties, ObjectProvider<SslBundles> bundles) {
        String name = properties.getTls().getBundle();
        SslBundles all = bundles.getIfAvailable();
        return name == null || name.isBlank() || all == null ? null : all.getBundle(name);
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.http.client.ClientHttpRequestFactory")
    @Conditional(NoImperativeClientChosen.class)
    static class Imperative {

        @Bean
        @ConditionalOnMissingBean(ClientHttpRequestFactoryBuilder.class)
        SluiceClientHttpRequestFactoryBuilder sluiceClientHttpRequestFactoryBuilder(ConnectionPoolManager manager,
                SluiceProperties properties, ObjectProvider<SslBundles> bundles) {
            return new SluiceClientHttpRequestFactoryBuilder(manager, managerBundle(properties, bundles));
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = { "org.springframework.http.client.reactive.ClientHttpConnector",
            "reactor.core.publisher.Mono" })
    @Conditional(NoReactiveConnectorChosen.class)
    static class Reactive {

        @Bean
        @ConditionalOnMissingBean(ClientHttpConnectorBuilder.class)
        SluiceClientHttpConnectorBuilder sluiceClientHttpConnectorBuilder(ConnectionPoolManager manager,
                SluiceProperties properties, ObjectProvider<SslBundles> bundles) {
            return new SluiceClientHttpConnectorBuilder(manager, managerBundle(properties, bundles));
        }
    }

    /** Matches when none of {@code properties} is set: a user who names a client keeps it. */
    abstract static class NoneSet extends SpringBootCondition {
        private final String[] properties;

        NoneSet(String... properties) {
            this.properties = properties;
        }

        @Override
        public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
            for (String p : properties) {
                if (context.getEnvironment().containsProperty(p)) {
                    return ConditionOutcome.noMatch(p + " chooses the HTTP client");
                }
            }
            return ConditionOutcome.match("no HTTP client chosen by property");
        }
    }

    static final class NoImperativeClientChosen extends NoneSet {
        NoImperativeClientChosen() {
            super("spring.http.clients.imperative.factory", "spring.http.client.factory");
        }
    }

    static final class NoReactiveConnectorChosen extends NoneSet {
        NoReactiveConnectorChosen() {
            super("spring.http.clients.reactive.connector", "spring.http.reactiveclient.connector");
        }
    }
}

package io.sluice.spring.boot;

import com.anthropic.client.AnthropicClient;
import com.openai.client.OpenAIClient;
import io.sluice.anthropic.SluiceAnthropic;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.openai.SluiceOpenAI;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * The official SDK clients over the shared manager: an {@link OpenAIClient} (via {@link SluiceOpenAI}) when
 * {@code com.openai:openai-java-core} and {@code sluice-openai} are on the classpath, an {@link AnthropicClient} (via
 * {@link SluiceAnthropic}) when {@code com.anthropic:anthropic-java-core} and {@code sluice-anthropic} are; each only
 * when an API key is at hand ({@code sluice.openai.api-key} / {@code sluice.anthropic.api-key}, or the SDK's
 * environment variable) and the application has not defined its own client bean.
 *
 * <p>The SDKs keep their own retries ({@code sluice.*.max-retries}); their requests run with Sluice's status retries
 * off, whatever {@code sluice.retries} says, so the two loops never multiply.
 *
 * <p><b>Thread-safety:</b> configuration, run once by Spring. <b>Ownership:</b> the clients are beans the context
 * closes (releasing only their own exchanges) before the manager they share.
 */
@AutoConfiguration(after = SluiceAutoConfiguration.class)
@ConditionalOnBean(ConnectionPoolManager.class)
public final class SluiceSdkAutoConfiguration {

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass({ OpenAIClient.class, SluiceOpenAI.class })
    @ConditionalOnBooleanProperty(name = "sluice.openai.enabled", matchIfMissing = true)
    @Conditional(OpenAiKey.class)
    static class OpenAi {

        @Bean(destroyMethod = "close")
        @ConditionalOnMissingBean
        OpenAIClient openAIClient(ConnectionPoolManager manager, SluiceProperties properties) {
            SluiceProperties.Sdk p = properties.getOpenai();
            SluiceOpenAI.Builder b = SluiceOpenAI.builder().fromEnv().poolManager(manager);
            if (p.getApiKey() != null) {
                b.apiKey(p.getApiKey());
            }
            if (p.getBaseUrl() != null) {
                b.baseUrl(p.getBaseUrl());
            }
            if (p.getMaxRetries() != null) {
                b.maxRetries(p.getMaxRetries());
            }
            return b.build();
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass({ AnthropicClient.class, SluiceAnthropic.class })
    @ConditionalOnBooleanProperty(name = "sluice.anthropic.enabled", matchIfMissing = true)
    @Conditional(AnthropicKey.class)
    static class Anthropic {

        @Bean(destroyMethod = "close")
        @ConditionalOnMissingBean
        AnthropicClient anthropicClient(ConnectionPoolManager manager, SluiceProperties properties) {
            SluiceProperties.Sdk p = properties.getAnthropic();
            SluiceAnthropic.Builder b = SluiceAnthropic.builder().fromEnv().poolManager(manager);
            if (p.getApiKey() != null) {
                b.apiKey(p.getApiKey());
            }
            if (p.getBaseUrl() != null) {
                b.baseUrl(p.getBaseUrl());
            }
            if (p.getMaxRetries() != null) {
                b.maxRetries(p.getMaxRetries());
            }
            return b.build();
        }
    }

    /**
     * Matches when one of {@code keys} is set: without an API key the SDK's builder throws, and an application that
     * merely has the SDK on its classpath must still start.
     */
    abstract static class AnyKey extends SpringBootCondition {
        private final String[] keys;

        AnyKey(String... keys) {
            this.keys = keys;
        }

        @Override
        public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
            for (String k : keys) {
                String v = context.getEnvironment().getProperty(k);
                if (v != null && !v.isBlank()) {
                    return ConditionOutcome.match(k + " is set");
                }
            }
            return ConditionOutcome.noMatch("no API key: none of " + String.join(", ", keys) + " is set");
        }
    }

    static final class OpenAiKey extends AnyKey {
        OpenAiKey() {
            super("sluice.openai.api-key", "OPENAI_API_KEY");
        }
    }

    static final class AnthropicKey extends AnyKey {
        AnthropicKey() {
            super("sluice.anthropic.api-key", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN");
        }
    }
}

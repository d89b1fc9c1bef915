package io.sluice.spring.boot;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.spring.http.SluiceOkHttpInterceptor;
import org.springframework.ai.anthropic.http.okhttp.AnthropicHttpClientBuilderCustomizer;
import org.springframework.ai.openai.http.okhttp.OpenAiHttpClientBuilderCustomizer;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Spring AI 2.0's OpenAI and Anthropic chat models over the shared manager, with no code in the application.
 *
 * <p>Spring AI builds its SDK clients itself ({@code OpenAiSetup} / {@code AnthropicSetup}) on an OkHttp transport
 * of its own ({@code SpringAiOpenAiHttpClient}, {@code SpringAiAnthropicHttpClient}); the hook it offers is a
 * {@code OpenAiHttpClientBuilderCustomizer} / {@code AnthropicHttpClientBuilderCustomizer} bean, applied to that
 * transport's builder. The builder takes OkHttp interceptors, so this registers a {@link SluiceOkHttpInterceptor}:
 * every call Spring AI makes is answered by Sluice and OkHttp never opens a connection. Spring AI's own settings
 * (api key, base URL, timeouts, retries) still apply.
 *
 * <p>Off with {@code sluice.spring-ai.enabled=false}.
 *
 * <p><b>Thread-safety:</b> configuration, run once by Spring. <b>Ownership:</b> the interceptors use the shared
 * manager, which the context owns.
 */
@AutoConfiguration(after = SluiceAutoConfiguration.class, beforeName = {
        "org.springframework.ai.model.openai.autoconfigure.OpenAiChatAutoConfiguration",
        "org.springframework.ai.model.anthropic.autoconfigure.AnthropicChatAutoConfiguration" })
@ConditionalOnClass(name = "okhttp3.Interceptor")
@ConditionalOnBean(ConnectionPoolManager.class)
@ConditionalOnBooleanProperty(name = "sluice.spring-ai.enabled", matchIfMissing = true)
public final class SluiceSpringAiAutoConfiguration {

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(OpenAiHttpClientBuilderCustomizer.class)
    static class OpenAi {

        @Bean
        OpenAiHttpClientBuilderCustomizer sluiceOpenAiHttpClientBuilderCustomizer(ConnectionPoolManager manager) {
            SluiceOkHttpInterceptor sluice = new SluiceOkHttpInterceptor(manager);
            return builder -> builder.interceptor(sluice);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(AnthropicHttpClientBuilderCustomizer.class)
    static class Anthropic {

        @Bean
        AnthropicHttpClientBuilderCustomizer sluiceAnthropicHttpClientBuilderCustomizer(ConnectionPoolManager manager) {
            SluiceOkHttpInterceptor sluice = new SluiceOkHttpInterceptor(manager);
            return builder -> builder.interceptor(sluice);
        }
    }
}

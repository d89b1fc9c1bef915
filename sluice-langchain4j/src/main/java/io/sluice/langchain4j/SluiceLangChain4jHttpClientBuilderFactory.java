package io.sluice.langchain4j;

import dev.langchain4j.http.client.HttpClientBuilderFactory;

/**
 * The {@code ServiceLoader} entry that lets LangChain4j find Sluice's HTTP client
 * ({@code META-INF/services/dev.langchain4j.http.client.HttpClientBuilderFactory}). When another
 * client is also on the classpath (LangChain4j's model modules bring the JDK one), choose this one
 * with {@code -Dlangchain4j.http.clientBuilderFactory=io.sluice.langchain4j.SluiceLangChain4jHttpClientBuilderFactory}.
 *
 * <p><b>Thread-safety:</b> stateless; every {@link #create()} returns a new builder.
 */
public final class SluiceLangChain4jHttpClientBuilderFactory implements HttpClientBuilderFactory {

    @Override
    public SluiceLangChain4jHttpClientBuilder create() {
        return new SluiceLangChain4jHttpClientBuilder();
    }
}

package io.sluice.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.langchain4j.model.openai.OpenAiChatModel;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.TlsOptions;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A private CA for LangChain4j models without building a manager by hand. */
@Timeout(30)
class LangChain4jTlsOptionsTest {
    private static final String KEY = "sk-lc4j-tls-options";

    @Test
    void tlsOptionsReachTheSharedManagerForThoseOptions() {
        try (MockProvider mock = MockProvider.start(MockOptions.builder().requiredApiKey(KEY).build())) {
            TlsOptions tls = TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build();
            String answer = OpenAiChatModel.builder().httpClientBuilder(new SluiceLangChain4jHttpClientBuilder().tls(tls))
                    .baseUrl(mock.httpsUri() + "/v1").apiKey(KEY).modelName("gpt-test").maxRetries(0).build().chat("Hello");
            assertThat(answer).isNotBlank();
            assertThat(SluiceLangChain4j.sharedPoolManager(null, tls)).as("one shared manager per TLS options")
                    .isSameAs(SluiceLangChain4j.sharedPoolManager(null, tls))
                    .isNotSameAs(SluiceLangChain4j.sharedPoolManager(null));
            try (ConnectionPoolManager own = SluiceLangChain4j.poolManagerBuilder().build()) {
                assertThatThrownBy(() -> new SluiceLangChain4jHttpClientBuilder().poolManager(own).tls(tls).build())
                        .isInstanceOf(IllegalStateException.class);
            }
        }
    }
}

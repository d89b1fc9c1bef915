package io.sluice.anthropic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.anthropic.client.AnthropicClient;
import com.anthropic.errors.AnthropicIoException;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.TlsOptions;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A private CA without building a manager by hand: the TLS options go to the manager the client owns. */
@Timeout(30)
class AnthropicTlsOptionsTest {
    private static final String KEY = "sk-ant-tls-options";

    @Test
    void tlsOptionsGoStraightToTheClientsOwnManager() {
        try (MockProvider mock = MockProvider.start(MockOptions.builder().requiredApiKey(KEY).build())) {
            AnthropicClient sdk = SluiceAnthropic.builder()
                    .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build())
                    .apiKey(KEY).baseUrl(mock.httpsUri().toString()).build();
            assertThat(AnthropicTransportTest.text(sdk.messages().create(AnthropicTransportTest.params(Map.of()))))
                    .isNotBlank();
            sdk.close();
            AnthropicClient untrusting = SluiceAnthropic.builder().apiKey(KEY).baseUrl(mock.httpsUri().toString())
                    .maxRetries(0).build();
            assertThatThrownBy(() -> untrusting.messages().create(AnthropicTransportTest.params(Map.of())))
                    .as("the mock's certificate is not trusted without the option").isInstanceOf(AnthropicIoException.class);
            untrusting.close();
            try (ConnectionPoolManager shared = SluiceAnthropic.poolManagerBuilder().build()) {
                assertThatThrownBy(() -> SluiceAnthropic.builder().poolManager(shared).tls(TlsOptions.defaults())
                        .apiKey(KEY).build()).isInstanceOf(IllegalStateException.class).hasMessageContaining("shared");
            }
        }
    }
}

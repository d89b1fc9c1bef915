package io.sluice.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.Route;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.ai.anthropic.AnthropicChatModel;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Spring AI 2.0.1's Anthropic chat model over Sluice, end to end: a call and a streamed call against the mock
 * provider's {@code /v1/messages}, through the starter's hook and nothing else. Spring AI 2.0.1's Anthropic module
 * is built against anthropic-java 2.x, which cannot share a classpath with the 3.x that sluice-anthropic needs, so
 * this class runs in its own surefire execution ({@code spring-ai-anthropic} in the starter's pom) with
 * anthropic-java-core 2.52.0 and without sluice-anthropic: what an application using Spring AI's Anthropic model
 * has on its classpath.
 */
@SpringBootTest(classes = SpringAiAnthropicTest.App.class, properties = "spring.ai.model.chat=anthropic")
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SpringAiAnthropicTest {

    static final String KEY = "sk-ant-test";
    static final MockProvider mock = MockProvider.start(MockOptions.builder().requiredApiKey(KEY).build());

    @SpringBootApplication
    static class App {
    }

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry r) {
        r.add("spring.ssl.bundle.pem.mock.truststore.certificate", mock::certificatePem);
        r.add("sluice.tls.bundle", () -> "mock");
        r.add("sluice.pool.min-idle", () -> "0");
        r.add("spring.ai.openai.api-key", () -> "unused"); // the OpenAI starter is on the classpath too; not called
        r.add("spring.ai.anthropic.api-key", () -> KEY);
        r.add("spring.ai.anthropic.base-url", () -> mock.httpsUri().toString());
        r.add("spring.ai.anthropic.chat.options.model", () -> "claude-sonnet-4-5");
    }

    @AfterAll
    static void stopMock() {
        mock.close();
    }

    @Autowired
    ConnectionPoolManager manager;

    @Autowired
    AnthropicChatModel anthropic;

    long acquisitions() {
        var s = manager.stats(Route.of(mock.httpsUri()));
        return s == null ? 0 : s.acquisitions();
    }

    @Test
    void springAiAnthropicCallsAndStreamsRunOverSluice() {
        assertThat(com.anthropic.client.AnthropicClient.class.getProtectionDomain().getCodeSource().getLocation()
                .toString()).as("Spring AI's own anthropic-java").contains("2.52.0");
        long before = acquisitions();
        long mockBefore = mock.stats().requests("/v1/messages");
        assertThat(anthropic.call("Say hello")).isNotBlank();
        List<String> tokens = anthropic.stream("Say hello").collectList().block(Duration.ofSeconds(30));
        assertThat(tokens).hasSizeGreaterThan(1);
        assertThat(mock.stats().requests("/v1/messages") - mockBefore).isEqualTo(2);
        assertThat(acquisitions() - before).as("both requests took a slot of Sluice's pool").isEqualTo(2);
    }
}

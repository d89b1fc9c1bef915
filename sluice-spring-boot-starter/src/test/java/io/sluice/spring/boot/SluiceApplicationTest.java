package io.sluice.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.Route;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.ai.anthropic.AnthropicChatModel;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.client.RestClient;

/**
 * A whole Spring Boot 4 application with the starter and nothing else of Sluice's: Tomcat on a random loopback port,
 * Actuator, Spring AI 2.0's OpenAI and Anthropic chat models, against the testkit's mock provider (TLS, HTTP/2) whose
 * certificate arrives as an SSL bundle. Spring AI's calls and streams go through the shared manager (its pool counts
 * them), and Actuator's health and metrics endpoints, read over HTTP with the JDK's client, show the route.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        classes = SluiceApplicationTest.App.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SluiceApplicationTest {

    static final String KEY = "sk-test";
    static final MockProvider mock = MockProvider.start(MockOptions.builder().requiredApiKey(KEY).build());

    @SpringBootApplication
    static class App {
    }

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry r) {
        r.add("server.address", () -> "127.0.0.1");
        r.add("spring.ssl.bundle.pem.mock.truststore.certificate", mock::certificatePem);
        r.add("sluice.tls.bundle", () -> "mock");
        r.add("sluice.pool.min-idle", () -> "0");
        r.add("spring.ai.openai.api-key", () -> KEY);
        r.add("spring.ai.openai.base-url", () -> mock.httpsUri() + "/v1");
        r.add("spring.ai.openai.chat.options.model", () -> "gpt-4o-mini");
        r.add("spring.ai.anthropic.api-key", () -> KEY);
        r.add("spring.ai.anthropic.base-url", () -> mock.httpsUri().toString());
        r.add("spring.ai.anthropic.chat.options.model", () -> "claude-sonnet-4-5");
        r.add("management.endpoints.web.exposure.include", () -> "health,metrics");
        r.add("management.endpoint.health.show-details", () -> "always");
    }

    @AfterAll
    static void stopMock() {
        mock.close();
    }

    @Autowired
    ConnectionPoolManager manager;

    @Autowired
    OpenAiChatModel openAi;

    @Autowired
    AnthropicChatModel anthropic;

    @Autowired
    RestClient.Builder rest;

    @LocalServerPort
    int port;

    long acquisitions() {
        var s = manager.stats(Route.of(mock.httpsUri()));
        return s == null ? 0 : s.acquisitions();
    }

    @Test
    void springAiOpenAiCallsAndStreamsRunOverSluice() {
        long before = acquisitions();
        long mockBefore = mock.stats().requests("/v1/chat/completions");
        assertThat(openAi.call("Say hello")).isNotBlank();
        List<String> tokens = openAi.stream("Say hello").collectList().block(Duration.ofSeconds(30));
        assertThat(tokens).hasSizeGreaterThan(1);
        assertThat(mock.stats().requests("/v1/chat/completions") - mockBefore).isEqualTo(2);
        assertThat(acquisitions() - before).as("both requests took a slot of Sluice's pool").isEqualTo(2);
    }

    /**
     * Spring AI 2.0.1's Anthropic model is compiled against anthropic-java-core 2.x, and this classpath has 3.x (what
     * sluice-anthropic uses), on which Spring AI's own transport fails before any request. Here only the wiring is
     * checked; {@link SpringAiAnthropicTest} runs the model end to end on the classpath such an application has.
     */
    @Test
    void springAiAnthropicGetsTheSluiceHook(@Autowired List<org.springframework.ai.anthropic.http.okhttp.AnthropicHttpClientBuilderCustomizer> hooks) {
        assertThat(anthropic).isNotNull();
        assertThat(hooks).hasSize(1);
    }

    String get(String path) throws Exception {
        HttpClient jdk = HttpClient.newHttpClient(); // not Sluice: the endpoints are read as any monitor would
        HttpResponse<String> r = jdk.send(java.net.http.HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path).isEqualTo(200);
        return r.body();
    }

    @Test
    void actuatorShowsEachRoutesHealthAndTheSluiceMeters() throws Exception {
        assertThat(rest.build().get().uri(mock.httpsUri() + "/v1/models").header("authorization", "Bearer " + KEY)
                .retrieve().body(String.class)).isNotBlank();
        String member = SluiceHealthContributor.name(Route.of(mock.httpsUri()));

        String health = get("/actuator/health");
        assertThat(health).contains("\"sluice\"", "\"" + member + "\"", "\"route\":\"" + Route.of(mock.httpsUri()) + "\"");
        assertThat(get("/actuator/health/sluice/" + member)).contains("\"status\":\"UP\"", "\"ejected\":false");

        assertThat(get("/actuator/metrics/" + io.sluice.tracing.micrometer.DefaultSluiceObservationConvention.NAME))
                .as("each request is an observation, which Actuator records as a timer")
                .contains("\"COUNT\"", "\"http.request.method\"", "\"server.address\"", "\"outcome\"");

        String meter = get("/actuator/metrics/sluice.pool.connections.open");
        assertThat(meter).contains("\"pool\"", Route.of(mock.httpsUri()).toString());
        assertThat(get("/actuator/metrics/sluice.pool.connections.open?tag=pool:" + Route.of(mock.httpsUri())))
                .contains("\"value\":1.0");
        assertThat(get("/actuator/metrics/sluice.http.client.requests")).as("the request meters of sluice-micrometer")
                .contains("\"COUNT\"", "\"status\"", "\"method\"");
    }
}

package io.sluice.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.http.RateLimitedException;
import io.sluice.http.Route;
import io.sluice.ratelimit.RateLimiter;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;

/**
 * A whole Spring Boot application with the starter, sluice-ratelimit and Actuator, and only properties: the
 * auto-configurations are found through the starter's imports file (not named by the test), the limiter shapes
 * Boot's RestClient, and its meters are read over HTTP from {@code /actuator/metrics} as a monitor would. The mock
 * provider allows 3 requests a minute; {@code mode=fail} refuses the fourth unsent.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        classes = SluiceRateLimitApplicationTest.App.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SluiceRateLimitApplicationTest {

    static final String KEY = "sk-test";
    static final MockProvider mock = MockProvider.start(MockOptions.builder().requiredApiKey(KEY)
            .enforceRateLimits(true).rateLimitRequests(3).rateLimitWindow(Duration.ofSeconds(60)).build());

    @SpringBootApplication
    static class App {
    }

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry r) {
        r.add("server.address", () -> "127.0.0.1");
        r.add("spring.ssl.bundle.pem.mock.truststore.certificate", mock::certificatePem);
        r.add("sluice.tls.bundle", () -> "mock");
        r.add("sluice.pool.min-idle", () -> "0");
        r.add("sluice.retries.enabled", () -> "false");
        r.add("sluice.rate-limits.enabled", () -> "true");
        r.add("sluice.rate-limits.mode", () -> "fail");
        // Spring AI's models are on this test class path and want a key to start; they are not used here
        r.add("spring.ai.openai.api-key", () -> KEY);
        r.add("spring.ai.anthropic.api-key", () -> KEY);
        r.add("management.endpoints.web.exposure.include", () -> "health,metrics");
    }

    @AfterAll
    static void stopMock() {
        mock.close();
    }

    @Autowired
    RestClient.Builder rest;

    @Autowired
    RateLimiter limiter;

    @LocalServerPort
    int port;

    String get(String path) throws Exception {
        HttpClient jdk = HttpClient.newHttpClient(); // not Sluice: the endpoint is read as any monitor would
        HttpResponse<String> r = jdk.send(java.net.http.HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path).isEqualTo(200);
        return r.body();
    }

    /** A chat completion: the endpoint the mock limits (and announces the limits on). */
    static String chat(RestClient client) {
        return client.post().uri("/v1/chat/completions").header("authorization", "Bearer " + KEY)
                .contentType(MediaType.APPLICATION_JSON)
                .body("{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                .retrieve().body(String.class);
    }

    @Test
    void theRestClientIsShapedAndActuatorShowsTheLimitersMeters() throws Exception {
        RestClient client = rest.baseUrl(mock.httpsUri().toString()).build();
        for (int i = 0; i < 3; i++) {
            assertThat(chat(client)).contains("chat.completion");
        }
        assertThatThrownBy(() -> chat(client)).isInstanceOf(ResourceAccessException.class)
                .hasRootCauseInstanceOf(RateLimitedException.class);
        assertThat(mock.stats().requests("/v1/chat/completions")).as("the fourth never sent").isEqualTo(3);
        assertThat(mock.stats().rateLimitRejected()).isZero();
        assertThat(limiter.stats().rejected()).isEqualTo(1);

        assertThat(get("/actuator/metrics/sluice.ratelimit.rejected")).contains("\"COUNT\"", "\"value\":1.0");
        assertThat(get("/actuator/metrics/sluice.ratelimit.admitted?tag=how:at_once")).contains("\"value\":3.0");
        String route = URLEncoder.encode(Route.of(mock.httpsUri()).toString(), StandardCharsets.UTF_8);
        assertThat(get("/actuator/metrics/sluice.ratelimit.requests.available?tag=route:" + route))
                .as("the route's budget, spent: below one request")
                .contains("\"statistic\":\"VALUE\",\"value\":0.");
    }
}

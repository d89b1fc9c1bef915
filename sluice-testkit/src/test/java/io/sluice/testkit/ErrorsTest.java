package io.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import java.net.http.HttpClient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Auth failures, bad input and option validation get clear, provider-shaped errors. */
class ErrorsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @RegisterExtension
    static final MockProviderExtension MOCK = MockProviderExtension.withOptions(
            MockOptions.builder().requiredApiKey("sk-test").maxRequestBodyBytes(1024).build());
    @InjectMock
    private static MockProvider mock;
    private static Call h2;
    private static Call h1;

    @BeforeAll
    static void clients() {
        h2 = Call.jdk(mock, HttpClient.Version.HTTP_2, true);
        h1 = Call.jdk(mock, HttpClient.Version.HTTP_1_1, false);
    }

    @Test
    void openAiPathsRejectMissingOrWrongKeysWithOpenAiError() throws Exception {
        for (Call c : new Call[] {h1, h2}) {
            Call.Result missing = c.send("POST", "/v1/chat/completions", "{\"model\":\"m\",\"messages\":[]}");
            assertThat(missing.status()).isEqualTo(401);
            JsonNode err = JSON.readTree(missing.body()).path("error");
            assertThat(err.path("type").asText()).isEqualTo("invalid_request_error");
            assertThat(err.path("code").asText()).isEqualTo("invalid_api_key");
            assertThat(err.path("message").asText()).isNotBlank();
            assertThat(missing.header("x-request-id")).isNotNull();
            Call.Result wrong = c.send("GET", "/v1/models", null, "authorization", "Bearer nope");
            assertThat(wrong.status()).isEqualTo(401);
            assertThat(c.send("GET", "/v1/models", null, "authorization", "Bearer sk-test").status()).isEqualTo(200);
            assertThat(c.send("GET", "/v1/models", null, "x-api-key", "sk-test").status()).isEqualTo(200);
        }
    }

    @Test
    void anthropicPathRejectsWithAnthropicError() throws Exception {
        Call.Result r = h2.send("POST", "/v1/messages", "{\"model\":\"m\",\"max_tokens\":1,\"messages\":[]}",
                "x-api-key", "wrong");
        assertThat(r.status()).isEqualTo(401);
        JsonNode j = JSON.readTree(r.body());
        assertThat(j.path("type").asText()).isEqualTo("error");
        assertThat(j.path("error").path("type").asText()).isEqualTo("authentication_error");
        assertThat(r.header("request-id")).isNotNull();
        assertThat(r.header("anthropic-ratelimit-requests-limit")).isNotNull();
    }

    @Test
    void healthPathsNeedNoKey() throws Exception {
        assertThat(h1.send("GET", "/ping", null).status()).isEqualTo(200);
        assertThat(h2.send("GET", "/generate_204", null).status()).isEqualTo(204);
    }

    @Test
    void badInputGetsProviderErrors() throws Exception {
        for (Call c : new Call[] {h1, h2}) {
            Call.Result badJson = c.send("POST", "/v1/chat/completions", "{not json", "x-api-key", "sk-test");
            assertThat(badJson.status()).isEqualTo(400);
            assertThat(JSON.readTree(badJson.body()).path("error").path("type").asText()).isEqualTo("invalid_request_error");

            Call.Result notFound = c.send("GET", "/v1/nope", null, "x-api-key", "sk-test");
            assertThat(notFound.status()).isEqualTo(404);
            assertThat(JSON.readTree(notFound.body()).path("error").path("code").asText()).isEqualTo("unknown_url");

            Call.Result wrongMethod = c.send("GET", "/v1/chat/completions", null, "x-api-key", "sk-test");
            assertThat(wrongMethod.status()).isEqualTo(405);

            Call.Result anthropicNoMaxTokens = c.send("POST", "/v1/messages", "{\"model\":\"m\",\"messages\":[]}",
                    "x-api-key", "sk-test");
            assertThat(anthropicNoMaxTokens.status()).isEqualTo(400);
            assertThat(JSON.readTree(anthropicNoMaxTokens.body()).path("error").path("type").asText())
                    .isEqualTo("invalid_request_error");

            Call.Result badKnob = c.send("GET", "/v1/models", null, "x-api-key", "sk-test", "x-mock-tokens", "lots");
            assertThat(badKnob.status()).isEqualTo(400);
            assertThat(JSON.readTree(badKnob.body()).path("error").path("message").asText()).contains("x-mock-tokens");
        }
    }

    @Test
    void oversizedBodyGets413() throws Exception {
        String big = "{\"model\":\"m\",\"messages\":[],\"pad\":\"" + "x".repeat(4096) + "\"}";
        for (Call c : new Call[] {h1, h2}) {
            Call.Result r = c.send("POST", "/v1/chat/completions", big, "x-api-key", "sk-test");
            assertThat(r.status()).isEqualTo(413);
            assertThat(JSON.readTree(r.body()).path("error").path("message").asText()).contains("1024");
        }
        // The server is still fine afterwards.
        assertThat(h2.send("GET", "/ping", null).status()).isEqualTo(200);
    }

    @Test
    void garbageOnThePlainPortGetsAnAnswerNotAHang() throws Exception {
        byte[] answer = TestClients.raw(mock, "THIS IS NOT HTTP\r\n\r\n", 3000);
        assertThat(new String(answer, java.nio.charset.StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 400");
    }

    @Test
    void nonLoopbackBindIsRefusedUnlessAllowed() {
        assertThatThrownBy(() -> MockOptions.builder().host("0.0.0.0").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("non-loopback")
                .hasMessageContaining("allowNonLoopback");
        assertThat(MockOptions.builder().host("0.0.0.0").allowNonLoopback(true).build().host()).isEqualTo("0.0.0.0");
        assertThat(MockOptions.builder().host("::1").build().host()).isEqualTo("::1");
    }

    @Test
    void invalidOptionsAreRejected() {
        assertThatThrownBy(() -> MockBehavior.builder().status(302).build()).hasMessageContaining("status");
        assertThatThrownBy(() -> MockOptions.builder().tlsPort(70000).build()).hasMessageContaining("tlsPort");
        assertThatThrownBy(() -> Malformation.parse("weird")).hasMessageContaining("oversized-headers");
    }
}

package io.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import java.net.http.HttpClient;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every endpoint over HTTP/1.1 and HTTP/2 (TLS ALPN and h2c) with JDK and OkHttp clients. */
class EndpointsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @RegisterExtension
    static final MockProviderExtension MOCK = MockProviderExtension.withOptions(
            MockOptions.builder().behavior(MockBehavior.builder().tokens(5).build()).build());
    @InjectMock
    private static MockProvider mock;
    private static List<Call> calls;

    @BeforeAll
    static void clients() {
        calls = List.of(
                Call.jdk(mock, HttpClient.Version.HTTP_1_1, true),
                Call.jdk(mock, HttpClient.Version.HTTP_2, true),
                Call.jdk(mock, HttpClient.Version.HTTP_1_1, false),
                Call.ok(TestClients.okTls(mock), mock.httpsUri(), "okhttp h2 tls"),
                Call.ok(TestClients.okH2c(), mock.httpUri(), "okhttp h2c"),
                Call.ok(TestClients.okHttp1(), mock.httpUri(), "okhttp http/1.1 plain"));
    }

    @AfterAll
    static void closeClients() {
        calls.forEach(Call::close);
    }

    static Stream<Arguments> calls() {
        return Stream.of(0, 1, 2, 3, 4, 5).map(i -> Arguments.of(i));
    }

    private static String expectedProtocol(Call c) {
        String n = c.name();
        return n.contains("HTTP_2") || n.contains("h2") ? "2" : "1.1";
    }

    @ParameterizedTest
    @MethodSource("calls")
    void negotiatesTheExpectedProtocol(int i) throws Exception {
        Call c = calls.get(i);
        Call.Result r = c.send("GET", "/v1/models", null);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.protocol().replace("_", ".")).as(c.name()).contains(expectedProtocol(c));
        JsonNode models = JSON.readTree(r.body());
        assertThat(models.path("object").asText()).isEqualTo("list");
        assertThat(models.path("data")).isNotEmpty();
        assertThat(r.header("x-request-id")).startsWith("req_");
        assertThat(r.header("x-ratelimit-limit-requests")).isEqualTo("10000");
        assertThat(r.header("x-ratelimit-remaining-requests")).isNotNull();
        assertThat(r.header("x-ratelimit-reset-requests")).isNotNull();
        assertThat(r.header("x-ratelimit-limit-tokens")).isNotNull();
    }

    @ParameterizedTest
    @MethodSource("calls")
    void chatCompletion(int i) throws Exception {
        Call.Result r = calls.get(i).send("POST", "/v1/chat/completions",
                "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("content-type")).startsWith("application/json");
        JsonNode j = JSON.readTree(r.body());
        assertThat(j.path("object").asText()).isEqualTo("chat.completion");
        assertThat(j.path("model").asText()).isEqualTo("gpt-4o-mini");
        assertThat(j.path("choices").get(0).path("message").path("content").asText()).isEqualTo(MockTokens.text(5));
        assertThat(j.path("choices").get(0).path("finish_reason").asText()).isEqualTo("stop");
        assertThat(j.path("usage").path("completion_tokens").asInt()).isEqualTo(5);
    }

    @ParameterizedTest
    @MethodSource("calls")
    void chatCompletionStreamWithUsage(int i) throws Exception {
        Call.Result r = calls.get(i).send("POST", "/v1/chat/completions",
                "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[]}",
                "x-mock-tokens", "7");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("content-type")).startsWith("text/event-stream");
        List<TestClients.SseEvent> events = TestClients.parseSse(r.body());
        assertThat(events).allMatch(e -> e.event() == null);
        assertThat(events.get(events.size() - 1).data()).isEqualTo("[DONE]");
        List<JsonNode> chunks = events.subList(0, events.size() - 1).stream().map(EndpointsTest::json).toList();
        assertThat(chunks).allMatch(c -> c.path("object").asText().equals("chat.completion.chunk"));
        JsonNode usage = chunks.get(chunks.size() - 1);
        assertThat(usage.path("choices")).isEmpty();
        assertThat(usage.path("usage").path("completion_tokens").asInt()).isEqualTo(7);
        assertThat(chunks.get(chunks.size() - 2).path("choices").get(0).path("finish_reason").asText()).isEqualTo("stop");
        String text = chunks.stream().filter(c -> c.path("choices").size() > 0)
                .map(c -> c.path("choices").get(0).path("delta").path("content").asText(""))
                .collect(Collectors.joining());
        assertThat(text).isEqualTo(MockTokens.text(7));
    }

    @ParameterizedTest
    @MethodSource("calls")
    void chatCompletionStreamWithoutUsage(int i) throws Exception {
        Call.Result r = calls.get(i).send("POST", "/v1/chat/completions",
                "{\"model\":\"m\",\"stream\":true,\"messages\":[]}");
        List<TestClients.SseEvent> events = TestClients.parseSse(r.body());
        // role chunk + 5 tokens + finish chunk + [DONE]
        assertThat(events).hasSize(8);
        assertThat(events.stream().map(EndpointsTest::jsonOrNull).filter(j -> j != null)
                .noneMatch(j -> j.has("usage"))).isTrue();
    }

    @ParameterizedTest
    @MethodSource("calls")
    void responsesStream(int i) throws Exception {
        Call.Result r = calls.get(i).send("POST", "/v1/responses",
                "{\"model\":\"gpt-4.1\",\"input\":\"hi\",\"stream\":true}");
        assertThat(r.status()).isEqualTo(200);
        List<TestClients.SseEvent> events = TestClients.parseSse(r.body());
        assertThat(events).allMatch(e -> e.event() != null);
        List<String> names = events.stream().map(TestClients.SseEvent::event).toList();
        assertThat(names.get(0)).isEqualTo("response.created");
        assertThat(names.get(1)).isEqualTo("response.in_progress");
        assertThat(names.get(names.size() - 1)).isEqualTo("response.completed");
        assertThat(names).doesNotContain("[DONE]");
        assertThat(names.stream().filter("response.output_text.delta"::equals).count()).isEqualTo(5);
        for (int n = 0; n < events.size(); n++) {
            JsonNode j = json(events.get(n));
            assertThat(j.path("type").asText()).isEqualTo(names.get(n));
            assertThat(j.path("sequence_number").asInt()).isEqualTo(n);
        }
        String text = events.stream().filter(e -> e.event().equals("response.output_text.delta"))
                .map(e -> json(e).path("delta").asText()).collect(Collectors.joining());
        assertThat(text).isEqualTo(MockTokens.text(5));
        JsonNode completed = json(events.get(events.size() - 1)).path("response");
        assertThat(completed.path("status").asText()).isEqualTo("completed");
        assertThat(completed.path("usage").path("output_tokens").asInt()).isEqualTo(5);
    }

    @ParameterizedTest
    @MethodSource("calls")
    void responsesObject(int i) throws Exception {
        Call.Result r = calls.get(i).send("POST", "/v1/responses", "{\"model\":\"gpt-4.1\",\"input\":\"hi\"}");
        JsonNode j = JSON.readTree(r.body());
        assertThat(j.path("object").asText()).isEqualTo("response");
        assertThat(j.path("output").get(0).path("content").get(0).path("text").asText()).isEqualTo(MockTokens.text(5));
    }

    @ParameterizedTest
    @MethodSource("calls")
    void messagesStream(int i) throws Exception {
        Call.Result r = calls.get(i).send("POST", "/v1/messages",
                "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":100,\"stream\":true,\"messages\":[]}");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("request-id")).startsWith("req_");
        assertThat(r.header("anthropic-ratelimit-requests-limit")).isEqualTo("10000");
        assertThat(r.header("anthropic-ratelimit-tokens-remaining")).isNotNull();
        List<TestClients.SseEvent> events = TestClients.parseSse(r.body());
        List<String> names = events.stream().map(TestClients.SseEvent::event).toList();
        assertThat(names).containsExactly("message_start", "content_block_start", "ping",
                "content_block_delta", "content_block_delta", "content_block_delta", "content_block_delta",
                "content_block_delta", "content_block_stop", "message_delta", "message_stop");
        for (TestClients.SseEvent e : events) {
            assertThat(json(e).path("type").asText()).isEqualTo(e.event());
        }
        String text = events.stream().filter(e -> e.event().equals("content_block_delta"))
                .map(e -> json(e).path("delta").path("text").asText()).collect(Collectors.joining());
        assertThat(text).isEqualTo(MockTokens.text(5));
        JsonNode delta = json(events.get(events.size() - 2));
        assertThat(delta.path("delta").path("stop_reason").asText()).isEqualTo("end_turn");
        assertThat(delta.path("usage").path("output_tokens").asInt()).isEqualTo(5);
    }

    @ParameterizedTest
    @MethodSource("calls")
    void messageObject(int i) throws Exception {
        Call.Result r = calls.get(i).send("POST", "/v1/messages",
                "{\"model\":\"claude\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        JsonNode j = JSON.readTree(r.body());
        assertThat(j.path("type").asText()).isEqualTo("message");
        assertThat(j.path("content").get(0).path("text").asText()).isEqualTo(MockTokens.text(5));
        assertThat(j.path("stop_reason").asText()).isEqualTo("end_turn");
    }

    @ParameterizedTest
    @MethodSource("calls")
    void embeddingsFloatAndBase64(int i) throws Exception {
        Call.Result r = calls.get(i).send("POST", "/v1/embeddings",
                "{\"model\":\"text-embedding-3-small\",\"input\":[\"a\",\"b\"],\"dimensions\":8}");
        JsonNode j = JSON.readTree(r.body());
        assertThat(j.path("object").asText()).isEqualTo("list");
        assertThat(j.path("data")).hasSize(2);
        assertThat(j.path("data").get(1).path("index").asInt()).isEqualTo(1);
        assertThat(j.path("data").get(0).path("embedding")).hasSize(8);
        Call.Result b64 = calls.get(i).send("POST", "/v1/embeddings",
                "{\"model\":\"m\",\"input\":\"a\",\"encoding_format\":\"base64\"}");
        String encoded = JSON.readTree(b64.body()).path("data").get(0).path("embedding").asText();
        assertThat(java.util.Base64.getDecoder().decode(encoded)).hasSize(EmbeddingsEndpoint.DEFAULT_DIMENSIONS * 4);
    }

    @ParameterizedTest
    @MethodSource("calls")
    void healthEndpoints(int i) throws Exception {
        Call c = calls.get(i);
        assertThat(c.send("GET", "/generate_204", null).status()).isEqualTo(204);
        assertThat(c.send("HEAD", "/generate_204", null).status()).isEqualTo(204);
        Call.Result ping = c.send("GET", "/ping", null);
        assertThat(ping.status()).isEqualTo(200);
        assertThat(ping.body()).isEqualTo("pong\n");
    }

    static JsonNode json(TestClients.SseEvent e) {
        try {
            return JSON.readTree(e.data());
        } catch (Exception ex) {
            throw new AssertionError("not JSON: " + e.data(), ex);
        }
    }

    static JsonNode jsonOrNull(TestClients.SseEvent e) {
        return e.data().equals("[DONE]") ? null : json(e);
    }
}

package io.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The /v1/realtime WebSocket on both ports with the JDK client. */
class WebSocketTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @RegisterExtension
    static final MockProviderExtension MOCK = MockProviderExtension.withOptions(
            MockOptions.builder().behavior(MockBehavior.builder().tokens(4).build()).build());
    @InjectMock
    private static MockProvider mock;

    /** Collects text messages and pongs. */
    static final class Listener implements WebSocket.Listener {
        final LinkedBlockingQueue<String> texts = new LinkedBlockingQueue<>();
        final CompletableFuture<String> pong = new CompletableFuture<>();
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                texts.add(partial.toString());
                partial.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onPong(WebSocket ws, ByteBuffer message) {
            pong.complete(StandardCharsets.UTF_8.decode(message).toString());
            ws.request(1);
            return null;
        }

        JsonNode next() throws Exception {
            String s = texts.poll(5, TimeUnit.SECONDS);
            assertThat(s).as("a message within 5 s").isNotNull();
            return JSON.readTree(s);
        }
    }

    @ParameterizedTest(name = "tls={0}")
    @ValueSource(booleans = {true, false})
    void realtimeSession(boolean tls) throws Exception {
        HttpClient client = TestClients.jdk(mock, HttpClient.Version.HTTP_1_1);
        URI uri = tls ? mock.wssUri() : mock.wsUri();
        Listener l = new Listener();
        WebSocket ws = client.newWebSocketBuilder().buildAsync(uri, l).get(5, TimeUnit.SECONDS);
        assertThat(l.next().path("type").asText()).isEqualTo("session.created");

        ws.sendText("{\"type\":\"response.create\"}", true).get(5, TimeUnit.SECONDS);
        List<String> types = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        JsonNode e;
        do {
            e = l.next();
            types.add(e.path("type").asText());
            if (e.path("type").asText().equals("response.output_text.delta")) {
                text.append(e.path("delta").asText());
            }
        } while (!e.path("type").asText().equals("response.done"));
        assertThat(types).containsExactly("response.created", "response.output_text.delta", "response.output_text.delta",
                "response.output_text.delta", "response.output_text.delta", "response.done");
        assertThat(text.toString()).isEqualTo(MockTokens.text(4));

        ws.sendText("{\"type\":\"what.is.this\",\"event_id\":\"evt_1\"}", true).get(5, TimeUnit.SECONDS);
        JsonNode err = l.next();
        assertThat(err.path("type").asText()).isEqualTo("error");
        assertThat(err.path("error").path("message").asText()).contains("what.is.this");
        assertThat(err.path("error").path("event_id").asText()).isEqualTo("evt_1");

        ws.sendPing(ByteBuffer.wrap("hb".getBytes(StandardCharsets.UTF_8))).get(5, TimeUnit.SECONDS);
        assertThat(l.pong.get(5, TimeUnit.SECONDS)).isEqualTo("hb");

        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
        assertThat(mock.stats().websocketSessions()).isGreaterThanOrEqualTo(1);
    }
}

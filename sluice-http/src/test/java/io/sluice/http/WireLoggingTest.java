package io.sluice.http;

import static io.sluice.http.HttpTestSupport.clientFor;
import static io.sluice.http.HttpTestSupport.https;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.sluice.testkit.MockProvider;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * The request/response log ({@code io.sluice.http.wire} at DEBUG): one line out, one line back,
 * with what a person debugging needs and none of the secrets a provider call carries (API keys in
 * headers, keys in the query string).
 */
@Timeout(30)
class WireLoggingTest {
    @RegisterExtension
    static final MockProviderExtension MOCK = MockProviderExtension.withOptions(io.sluice.testkit.MockOptions.builder().build());
    @InjectMock
    static MockProvider mock;

    @Test
    void requestsAndResponseHeadsAreLoggedWithTheSecretsRedacted() {
        Logger wire = (Logger) LoggerFactory.getLogger("io.sluice.http.wire");
        Level before = wire.getLevel();
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        wire.addAppender(captured);
        wire.setLevel(Level.DEBUG);
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            HttpRequest ping = HttpRequest.newBuilder(https(mock, "/ping?key=sk-query-secret&model=m"))
                    .header("authorization", "Bearer sk-header-secret").header("x-api-key", "sk-ant-secret")
                    .header("x-request-tag", "visible").build();
            assertThat(client.sendBlocking(ping).status()).isEqualTo(200);
        } finally {
            wire.detachAppender(captured);
            wire.setLevel(before);
        }
        List<String> lines = captured.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).contains("--> GET").contains("/ping").contains("x-request-tag: visible")
                .contains("model=m");
        assertThat(lines.get(1)).contains("<-- 200 GET").contains(" ms)");
        assertThat(lines.get(2)).contains("<-- END 200 GET").contains("-byte body");
        assertThat(String.join("\n", lines)).doesNotContain("sk-header-secret").doesNotContain("sk-ant-secret")
                .doesNotContain("sk-query-secret");
    }

    @Test
    void aFailedCallIsLoggedWithItsPhaseAndWithoutItsSecrets() throws Exception {
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        Logger wire = (Logger) LoggerFactory.getLogger("io.sluice.http.wire");
        Level before = wire.getLevel();
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        wire.addAppender(captured);
        wire.setLevel(Level.DEBUG);
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            HttpRequest get = HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + closedPort
                    + "/v1/models?api_key=sk-query-secret")).header("authorization", "Bearer sk-header-secret").build();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.sendBlocking(get))
                    .isInstanceOf(ConnectFailedException.class);
        } finally {
            wire.detachAppender(captured);
            wire.setLevel(before);
        }
        List<String> lines = captured.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(lines).singleElement().asString().contains("FAILED GET").contains("in ACQUIRE")
                .contains("ConnectFailedException").doesNotContain("sk-query-secret").doesNotContain("sk-header-secret");
    }
}

package io.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code x-mock-barrier}: responses are held until every party of the group has arrived, across
 * connections, so "N streams open at once" is a fact of the server, not of the machine's speed.
 */
@Timeout(60)
class BarrierTest {

    private static HttpRequest chat(MockProvider mock, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(mock.httpsUri().resolve("/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"m\",\"messages\":[]}"));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return b.build();
    }

    @Test
    void holdsEveryResponseUntilTheLastPartyArrivesOnAnotherConnection() throws Exception {
        try (MockProvider mock = MockProvider.start()) {
            // Two clients: two connections, so the barrier is shared by the server, not by a connection.
            HttpClient a = TestClients.jdk(mock, HttpClient.Version.HTTP_2);
            HttpClient b = TestClients.jdk(mock, HttpClient.Version.HTTP_2);
            List<CompletableFuture<HttpResponse<String>>> held = new ArrayList<>();
            for (int i = 0; i < 29; i++) {
                held.add(a.sendAsync(chat(mock, "x-mock-barrier", "g1:30"), HttpResponse.BodyHandlers.ofString()));
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> mock.stats().openStreams() == 29);
            // All 29 have arrived at the server, and none is answered while the 30th is missing.
            assertThat(held).noneMatch(CompletableFuture::isDone);
            assertThat(mock.stats().barriersCompleted()).isZero();
            HttpResponse<String> last = b.send(chat(mock, "x-mock-barrier", "g1:30"), HttpResponse.BodyHandlers.ofString());
            assertThat(last.statusCode()).isEqualTo(200);
            for (CompletableFuture<HttpResponse<String>> f : held) {
                assertThat(f.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            }
            assertThat(mock.stats().maxStreamsOverall()).isGreaterThanOrEqualTo(30);
            assertThat(mock.stats().barriersCompleted()).isEqualTo(1);
            assertThat(mock.stats().barrierTimeouts()).isZero();
            // The group is forgotten once released: the same name starts a new generation.
            var next = a.sendAsync(chat(mock, "x-mock-barrier", "g1:2"), HttpResponse.BodyHandlers.ofString());
            await().atMost(Duration.ofSeconds(20)).until(() -> mock.stats().openStreams() == 1);
            assertThat(next).isNotDone();
            assertThat(b.send(chat(mock, "x-mock-barrier", "g1:2"), HttpResponse.BodyHandlers.ofString()).statusCode())
                    .isEqualTo(200);
            assertThat(next.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void releasesTheWaitingRequestsAtTheDeadlineAndCountsTheTimeout() throws Exception {
        try (MockProvider mock = MockProvider.start()) {
            HttpClient client = TestClients.jdk(mock, HttpClient.Version.HTTP_2);
            List<CompletableFuture<HttpResponse<String>>> held = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                held.add(client.sendAsync(chat(mock, "x-mock-barrier", "short:10", "x-mock-barrier-timeout-ms", "300"),
                        HttpResponse.BodyHandlers.ofString()));
            }
            for (CompletableFuture<HttpResponse<String>> f : held) {
                assertThat(f.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            }
            assertThat(mock.stats().barrierTimeouts()).isEqualTo(1);
            assertThat(mock.stats().barriersCompleted()).isZero();
        }
    }

    @Test
    void aMalformedBarrierHeaderIsA400NamingTheHeader() throws Exception {
        try (MockProvider mock = MockProvider.start()) {
            HttpClient client = TestClients.jdk(mock, HttpClient.Version.HTTP_2);
            for (String bad : new String[] {"nocount", "g:", ":5", "g:zero", "g:0"}) {
                HttpResponse<String> r = client.send(chat(mock, "x-mock-barrier", bad), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(bad).isEqualTo(400);
                assertThat(r.body()).as(bad).contains("x-mock-barrier");
            }
        }
    }

    @Test
    void parsesGroupAndPartiesAndRejectsOutOfRange() {
        MockBarrier b = MockBarrier.parse(" streams:run-1:10000 ", 5000);
        assertThat(b.group()).isEqualTo("streams:run-1");
        assertThat(b.parties()).isEqualTo(10_000);
        assertThat(b.timeoutMs()).isEqualTo(5000);
        assertThat(b.headerValue()).isEqualTo("streams:run-1:10000");
        assertThatThrownBy(() -> MockBarrier.parse("g:2000000", 1)).hasMessageContaining("parties");
        assertThatThrownBy(() -> new MockBarrier("g", 2, 0)).hasMessageContaining("timeout");
    }
}

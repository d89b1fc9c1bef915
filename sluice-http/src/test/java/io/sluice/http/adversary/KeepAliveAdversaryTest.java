package io.sluice.http.adversary;

import static io.sluice.http.adversary.AdversaryClients.http1;
import static io.sluice.http.adversary.AdversaryClients.within;
import static io.sluice.http.faults.FaultSupport.assertAccountingExact;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.ConnectionLostException;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.testkit.adversary.AdversaryHttp1Server;
import io.sluice.testkit.adversary.Http1RequestRecord;
import io.sluice.testkit.adversary.Http1Script;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * HTTP/1.1 servers that close idle keep-alive connections: one that announces it
 * ({@code Keep-Alive: timeout=1}, then closes after 1 s idle), and one that closes (FIN) right
 * after answering although it said {@code Connection: keep-alive}. The next request must go on a
 * new connection and succeed: a POST must never be lost to a connection the server already closed.
 */
@Timeout(30)
class KeepAliveAdversaryTest {

    private static HttpRequest post(URI base) {
        return HttpRequest.newBuilder(base.resolve("/v1/embeddings")).POST("{\"input\":\"x\"}")
                .header("content-type", "application/json").build();
    }

    @Test
    void requestAfterTheAnnouncedKeepAliveTimeoutGoesOnANewConnection() throws Exception {
        Http1Script announced = Http1Script.reply().readBody()
                .response(200, "ok", "Connection: keep-alive", "Keep-Alive: timeout=1");
        try (AdversaryHttp1Server server = AdversaryHttp1Server.builder().defaultScript(announced)
                .idleTimeout(Duration.ofSeconds(1)).start();
             ConnectionPoolManager client = http1()) {
            assertThat(within(client.send(post(server.uri()))).status()).isEqualTo(200);
            Thread.sleep(1_500); // past the server's idle close

            HttpResponse r = within(client.send(post(server.uri())));

            assertThat(r.status()).isEqualTo(200);
            assertThat(server.requests()).extracting(Http1RequestRecord::connectionNumber).containsExactly(1, 2);
            assertAccountingExact(client);
        }
    }

    /**
     * A server that announces keep-alive and closes right after its answer. When the client has read the FIN before
     * the next POST, the POST goes on a new connection. The FIN can also arrive just after the POST was written to
     * the old socket: the client cannot tell that from a server that received the POST and then died, so the POST is
     * not replayed and fails saying it may have been processed (a replay could bill twice). Either way no POST
     * reaches the server twice, nothing hangs, and the accounting is exact.
     */
    @RepeatedTest(5)
    void postAfterAnAnswerFollowedByFinGoesOnANewConnectionOrFailsAsPossiblyProcessed() {
        Http1Script answerThenFin = Http1Script.reply().readBody()
                .response(200, "ok", "Connection: keep-alive").close();
        try (AdversaryHttp1Server server = AdversaryHttp1Server.builder().defaultScript(answerThenFin).start();
             ConnectionPoolManager client = http1()) {
            assertThat(within(client.send(post(server.uri()))).status()).isEqualTo(200);

            try {
                HttpResponse r = within(client.send(post(server.uri())));
                assertThat(r.status()).isEqualTo(200);
                assertThat(server.requests()).as("each POST arrived once, each on its own connection")
                        .extracting(Http1RequestRecord::connectionNumber).containsExactly(1, 2);
            } catch (ConnectionLostException e) {
                assertThat(e.possiblyProcessed()).as("written before the FIN was read: " + e.getMessage()).isTrue();
                assertThat(server.requests()).as("not replayed").hasSizeLessThanOrEqualTo(2);
            }
            assertAccountingExact(client);
        }
    }
}

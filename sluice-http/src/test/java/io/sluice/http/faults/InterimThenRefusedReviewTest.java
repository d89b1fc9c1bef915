package io.sluice.http.faults;

import static io.sluice.http.faults.FaultSupport.pool;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.faults.ScriptedH2Server.Action;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Review of 4592c87: "an interim (1xx) HTTP/2 head counts as a response byte (no replay after it)". A POST that got a
 * 103 Early Hints head (the server has the request) and then RST_STREAM(REFUSED_STREAM) is still replayed: the
 * interim flag only feeds ConnectionClosedException, not the REFUSED_STREAM / GOAWAY paths.
 */
class InterimThenRefusedReviewTest {

    @Test
    void aPostThatGotAnInterimHeadIsNotReplayedAfterRefusedStream() throws Exception {
        try (ScriptedH2Server server = new ScriptedH2Server(n -> n == 1 ? Action.earlyHintsThenRefuse()
                : Action.answer(200));
             ConnectionPoolManager client = ConnectionPoolManager.builder().poolConfig(pool().build())
                     .h2cPriorKnowledge(true).build()) {
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions");
            try {
                client.send(HttpRequest.newBuilder(uri).POST("{}").build()).get(15, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException expected) {
                // failing is the expected outcome
            }
            assertThat(server.requests.get()).as("the POST reached the server once; no replay after its 103 head")
                    .isEqualTo(1);
        }
    }
}

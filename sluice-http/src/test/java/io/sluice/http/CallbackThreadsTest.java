package io.sluice.http;

import static io.sluice.http.HttpTestSupport.chat;
import static io.sluice.http.HttpTestSupport.clientFor;
import static io.sluice.http.HttpTestSupport.https;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testkit.MockProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Where response futures complete, with the default callback executor, against what synchronous
 * callers do: block inside a continuation on another response of the same client. More such callers
 * than the executor has threads must all finish: a fixed set of callback threads would deadlock with
 * every thread joined on a completion queued behind it.
 */
class CallbackThreadsTest {

    @Test
    @Timeout(60)
    void continuationsThatBlockOnAnotherResponseOfTheSameClientAllFinish() throws Exception {
        try (MockProvider mock = MockProvider.start();
             ConnectionPoolManager client = clientFor(mock).build()) {
            int callers = 4 * Runtime.getRuntime().availableProcessors() + 8;
            List<CompletableFuture<Integer>> outer = new ArrayList<>();
            for (int i = 0; i < callers; i++) {
                outer.add(client.send(chat(https(mock, "/v1/chat/completions"), false))
                        .thenApply(first -> {
                            // blocking join inside a continuation, on a response that completes on the same executor
                            HttpResponse second = client.send(chat(https(mock, "/v1/chat/completions"), false)).join();
                            return first.status() + second.status();
                        }));
            }
            for (CompletableFuture<Integer> f : outer) {
                assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(400);
            }
        }
    }

    @Test
    @Timeout(30)
    void futuresCompleteOnTheCallbackThreadsNotTheEventLoop() throws Exception {
        try (MockProvider mock = MockProvider.start();
             ConnectionPoolManager client = clientFor(mock).build()) {
            // held 300 ms by the mock, so the continuation is attached before the response completes
            HttpRequest slow = HttpRequest.newBuilder(https(mock, "/v1/chat/completions"))
                    .POST("{\"model\":\"m\",\"messages\":[]}".getBytes(java.nio.charset.StandardCharsets.UTF_8))
                    .header("content-type", "application/json").header("x-mock-delay-ms", "300").build();
            String thread = client.send(slow)
                    .thenApply(r -> Thread.currentThread().getName()).get(10, TimeUnit.SECONDS);
            assertThat(thread).startsWith("sluice-http-callback");
        }
    }
}

package io.sluice.http;

import static io.sluice.http.HttpTestSupport.chat;
import static io.sluice.http.HttpTestSupport.clientFor;
import static io.sluice.http.HttpTestSupport.https;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testkit.MockProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The client's close() against continuations that block on another response of the
 * same client (CallbackThreadsTest's callers). close() fails the inner calls, whose completions queue behind
 * the blocked lanes, then shuts the callback executor down, which stops the watchdog: intended, every outer
 * future still completes (exceptionally).
 */
class CallbackCloseAdversaryTest {

    @Test
    @Timeout(60)
    void closeWhileEveryCallbackThreadBlocksOnAnInnerCallCompletesTheOuterFutures() throws Exception {
        try (MockProvider mock = MockProvider.start()) {
            ConnectionPoolManager client = clientFor(mock).build();
            int callers = Math.max(2, Runtime.getRuntime().availableProcessors()); // one per lane
            HttpRequest slow = HttpRequest.newBuilder(https(mock, "/v1/chat/completions"))
                    .POST("{\"model\":\"m\",\"messages\":[]}".getBytes(java.nio.charset.StandardCharsets.UTF_8))
                    .header("content-type", "application/json").header("x-mock-delay-ms", "20000").build();
            java.util.concurrent.CountDownLatch blocked = new java.util.concurrent.CountDownLatch(callers);
            List<CompletableFuture<Integer>> outer = new ArrayList<>();
            for (int i = 0; i < callers; i++) {
                outer.add(client.send(chat(https(mock, "/v1/chat/completions"), false)).thenApply(first -> {
                    blocked.countDown();
                    return client.send(slow).join().status(); // blocks until the inner call ends
                }));
            }
            assertThat(blocked.await(20, TimeUnit.SECONDS)).isTrue();
            Thread.sleep(200); // the inner requests are at the mock
            client.close();
            int hung = 0;
            for (CompletableFuture<Integer> f : outer) {
                try {
                    f.get(5, TimeUnit.SECONDS);
                } catch (ExecutionException expected) {
                    // ClientClosedException from the inner join: fine
                } catch (TimeoutException e) {
                    hung++;
                }
            }
            assertThat(hung).as("outer futures not completed 5 s after close(), of %d", callers).isZero();
        }
    }
}

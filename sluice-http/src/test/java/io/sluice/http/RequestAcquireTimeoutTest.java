package io.sluice.http;

import static io.sluice.http.HttpTestSupport.clientFor;
import static io.sluice.http.HttpTestSupport.https;
import static io.sluice.http.HttpTestSupport.testPool;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.sdk.CallTimeouts;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A request's own acquire bound (what an SDK's per-call connect timeout becomes): when every
 * connection is busy it fails with ACQUIRE at its bound, not the pool's 10 s, gives up its place
 * in the queue, and leaves the pool's accounting exact.
 */
@Timeout(30)
class RequestAcquireTimeoutTest {
    @RegisterExtension
    static final MockProviderExtension MOCK = MockProviderExtension.withOptions(MockOptions.builder().build());
    @InjectMock
    static MockProvider mock;

    @Test
    void aRequestsAcquireBoundEndsItsWaitAndTheQueueForgetsIt() throws Exception {
        try (ConnectionPoolManager client = clientFor(mock).http1Only(true)
                .poolConfig(testPool().maxConnections(1).build()).build()) {
            HttpRequest slow = HttpRequest.newBuilder(https(mock, "/v1/chat/completions")).POST("{\"model\":\"m\",\"messages\":[]}".getBytes(java.nio.charset.StandardCharsets.UTF_8))
                    .header("content-type", "application/json").header("x-mock-delay-ms", "2000").build();
            CompletableFuture<HttpResponse> busy = client.send(slow); // holds the only connection for 2 s
            Thread.sleep(200);
            HttpRequest quick = HttpRequest.newBuilder(https(mock, "/ping"))
                    .acquireTimeout(Duration.ofMillis(300)).build();
            Throwable failure = null;
            try {
                client.send(quick).get(10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                failure = e.getCause();
            }
            assertThat(failure).isInstanceOfSatisfying(RequestTimeoutException.class, t -> {
                assertThat(t.phase()).isEqualTo(RequestTimeoutException.Phase.ACQUIRE);
                assertThat(t.getMessage()).contains("300 ms").contains("acquire timeout");
            });
            // Without the bound it would have waited and been served when the slow call freed the slot at 2 s.
            assertThat(client.stats(quick.route()).pending()).as("its place in the queue was given up").isZero();
            assertThat(busy.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            assertThat(client.sendBlocking(quick).status()).as("a free slot is taken within the bound").isEqualTo(200);
            assertThat(client.stats(quick.route()).leasesOut()).isZero();
        }
    }

    @Test
    void anSdkConnectTimeoutBecomesTheAcquireBound() {
        HttpRequest r = CallTimeouts.apply(HttpRequest.newBuilder(https(mock, "/ping")), Duration.ofSeconds(2),
                Duration.ofSeconds(30), null).build();
        assertThat(r.acquireTimeout()).isEqualTo(Duration.ofSeconds(2));
        HttpRequest none = CallTimeouts.apply(HttpRequest.newBuilder(https(mock, "/ping")), Duration.ZERO,
                Duration.ofSeconds(30), null).build();
        assertThat(none.acquireTimeout()).as("zero means no limit, as in OkHttp").isNull();
    }
}

package io.sluice.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.pool.PoolConfig;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Shared helpers for the WebSocket tests. */
final class WebSocketTestSupport {

    private static final Pattern TYPE = Pattern.compile("\"type\":\"([^\"]+)\"");
    private static final Pattern DELTA = Pattern.compile("\"delta\":\"([^\"]*)\"");

    private WebSocketTestSupport() {
    }

    /** No pre-warm and no connect retries, so connection counts are the test's own. */
    static PoolConfig.Builder testPool() {
        return PoolConfig.builder().minIdle(0).maxRetries(0);
    }

    static <T> T await5(CompletableFuture<T> f) throws Exception {
        return f.get(5, TimeUnit.SECONDS);
    }

    static WebSocketMessage next(WebSocketLease ws) throws Exception {
        return await5(ws.receive());
    }

    /** The event's "type" (the first one in the JSON, i.e. the top-level one for the mock's events). */
    static String type(WebSocketMessage m) {
        Matcher x = TYPE.matcher(m.text());
        return x.find() ? x.group(1) : "";
    }

    static String delta(WebSocketMessage m) {
        Matcher x = DELTA.matcher(m.text());
        return x.find() ? x.group(1) : "";
    }

    /** Waits until the pool has no lease out and nobody waiting (releases may finish on other threads). */
    static void assertAccountingSettled(WebSocketPool pool) {
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(pool.stats().leasesOut()).as("leasesOut").isZero();
            assertThat(pool.stats().pending()).as("pending").isZero();
        });
    }
}

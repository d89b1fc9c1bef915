package io.sluice.http.faults;

import static io.sluice.http.faults.FaultSupport.assertAccountingExact;
import static io.sluice.http.faults.FaultSupport.clientFor;
import static io.sluice.http.faults.FaultSupport.pool;
import static io.sluice.http.faults.FaultSupport.within;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.faults.FaultSupport.Proto;
import io.sluice.testkit.MockBehavior;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import io.sluice.testkit.junit.NettyLeakCheck;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Fault matrix row 10: 429 with retry-after-ms / Retry-After, honoured within the deadline. */
@ExtendWith(NettyLeakCheck.class)
class StatusFaultTest {

    private static final Duration DEADLINE = Duration.ofSeconds(10);

    /** A 429 with retry-after-ms is retried after the hint; the server recovered meanwhile, so the caller sees 200. */
    @ParameterizedTest
    @EnumSource(Proto.class)
    void row10_429WithRetryAfterMs_recoversThroughARetry(Proto p) {
        try (MockProvider mock = MockProvider.start(MockOptions.builder()
                .behavior(MockBehavior.builder().status(429).retryAfterMs(400).build()).build());
             ConnectionPoolManager client = clientFor(mock).build()) {
            CompletableFuture<HttpResponse> f = client.send(HttpRequest.newBuilder(p.uri(mock, "/v1/models")).build());
            await().atMost(Duration.ofSeconds(5)).until(() -> mock.stats().totalRequests() >= 1);
            mock.behavior(MockBehavior.defaults()); // recovered before the 400 ms hint runs out
            assertThat(within(f, DEADLINE).status()).isEqualTo(200);
            assertThat(mock.stats().totalRequests()).isEqualTo(2);
            assertAccountingExact(client);
        }
    }

    /** A hint beyond the request's deadline is not waited for: the 429 goes to the caller at once, one request sent. */
    @ParameterizedTest
    @EnumSource(Proto.class)
    void row10_429BeyondTheDeadlineIsReturned(Proto p) {
        try (MockProvider mock = MockProvider.start(MockOptions.defaults());
             ConnectionPoolManager client = clientFor(mock).build()) {
            HttpRequest req = HttpRequest.newBuilder(p.uri(mock, "/v1/models")).header("x-mock-status", "429")
                    .header("x-mock-retry-after-ms", "60000").totalTimeout(Duration.ofSeconds(2)).build();
            HttpResponse r = within(client.send(req), Duration.ofSeconds(2));
            assertThat(r.status()).isEqualTo(429);
            assertThat(r.headers().get("retry-after-ms")).isEqualTo("60000");
            assertThat(mock.stats().totalRequests()).isEqualTo(1);
            assertAccountingExact(client);
        }
    }

    /** {@code Retry-After} in seconds only (no -ms variant), from a raw HTTP/1.1 peer: 429 then 200. */
    @Test
    void row10_retryAfterSeconds_http1() throws Exception {
        try (RawPeer peer = new RawPeer((s, n) -> {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            int served = 0;
            while (RawPeer.readRequestHead(in)) {
                String resp = served++ == 0
                        ? "HTTP/1.1 429 Too Many Requests\r\nretry-after: 1\r\ncontent-length: 2\r\n\r\n{}"
                        : "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                out.write(resp.getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        });
             ConnectionPoolManager client = ConnectionPoolManager.builder().poolConfig(pool().build()).build()) {
            URI uri = URI.create("http://127.0.0.1:" + peer.port() + "/v1/models");
            assertThat(within(client.send(HttpRequest.newBuilder(uri).build()), DEADLINE).bodyAsString()).isEqualTo("ok");
            assertThat(peer.connections.get()).as("the error body was drained: the connection was reused").isEqualTo(1);
            assertAccountingExact(client);
        }
    }
}

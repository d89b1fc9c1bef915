package io.sluice.http;

import static io.sluice.http.HttpTestSupport.assertNoLeasesOut;
import static io.sluice.http.HttpTestSupport.chat;
import static io.sluice.http.HttpTestSupport.clientFor;
import static io.sluice.http.HttpTestSupport.http;
import static io.sluice.http.HttpTestSupport.https;
import static io.sluice.http.HttpTestSupport.testPool;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.http.sse.SseEvent;
import io.sluice.testkit.MockProvider;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(MockProviderExtension.class)
class StreamingAndTimeoutTest {

    @InjectMock
    static MockProvider mock;

    private static HttpRequest sse(String uri, int tokens, long tokenDelayMs) {
        return chat(java.net.URI.create(uri), true).toBuilder()
                .header("x-mock-tokens", "" + tokens).header("x-mock-token-delay-ms", "" + tokenDelayMs).build();
    }

    @Test
    void sseChunksReachTheCallerWhileTheServerIsStillSending() {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            mock.resetCounters();
            try (StreamingResponse r = client.streamBlocking(sse(https(mock, "/v1/chat/completions").toString(), 20, 100))) {
                assertThat(r.status()).isEqualTo(200);
                SseEvent first = r.nextEventBlocking();
                assertThat(first).isNotNull();
                assertThat(mock.stats().openStreams()).as("the server is still streaming").isEqualTo(1);
                List<SseEvent> rest = new ArrayList<>();
                for (SseEvent e; (e = r.nextEventBlocking()) != null; ) {
                    rest.add(e);
                }
                assertThat(rest.get(rest.size() - 1).data()).isEqualTo("[DONE]");
            }
            assertNoLeasesOut(client);
        }
    }

    @Test
    void closingAnSseStreamEarlyFreesTheSlotOnHttp2() {
        try (ConnectionPoolManager client = clientFor(mock).poolConfig(testPool().maxConnections(1).build()).build()) {
            Route route = Route.of(https(mock, "/"));
            StreamingResponse r = client.streamBlocking(sse(https(mock, "/v1/chat/completions").toString(), 200, 50));
            assertThat(r.nextEventBlocking()).isNotNull();
            assertThat(client.stats(route).leasesOut()).isEqualTo(1);
            r.close();
            assertNoLeasesOut(client);
            await().atMost(Duration.ofSeconds(5)).until(() -> mock.stats().openStreams() == 0);
            // the connection survived the RST_STREAM and serves the next request
            assertThat(client.sendBlocking(HttpRequest.newBuilder(https(mock, "/ping")).build()).status()).isEqualTo(200);
            assertThat(client.stats(route).created()).isEqualTo(1);
        }
    }

    @Test
    void closingAStreamEarlyOnHttp11ClosesTheConnectionAndFreesTheSlot() {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            Route route = Route.of(http(mock, "/"));
            StreamingResponse r = client.streamBlocking(sse(http(mock, "/v1/chat/completions").toString(), 200, 50));
            assertThat(r.nextEventBlocking()).isNotNull();
            r.close();
            assertNoLeasesOut(client);
            await().atMost(Duration.ofSeconds(5)).until(() -> client.stats(route).open() == 0);
            assertThat(client.sendBlocking(HttpRequest.newBuilder(http(mock, "/ping")).build()).status()).isEqualTo(200);
        }
    }

    @Test
    void bodyPublisherDeliversWithBackPressure() throws Exception {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            StreamingResponse r = client.streamBlocking(sse(https(mock, "/v1/chat/completions").toString(), 30, 0));
            CompletableFuture<Long> total = new CompletableFuture<>();
            r.body().subscribe(new Flow.Subscriber<ByteBuffer>() {
                long bytes;
                Flow.Subscription s;

                @Override
                public void onSubscribe(Flow.Subscription s) {
                    this.s = s;
                    s.request(1);
                }

                @Override
                public void onNext(ByteBuffer item) {
                    assertThat(item.isReadOnly()).isTrue();
                    bytes += item.remaining();
                    s.request(1);
                }

                @Override
                public void onError(Throwable t) {
                    total.completeExceptionally(t);
                }

                @Override
                public void onComplete() {
                    total.complete(bytes);
                }
            });
            assertThat(total.get()).isPositive();
            assertNoLeasesOut(client);
        }
    }

    @Test
    void headersTimeoutNamesItsPhase() {
        try (ConnectionPoolManager client = clientFor(mock).requestTimeout(Duration.ofMillis(200)).build()) {
            HttpRequest slow = HttpRequest.newBuilder(https(mock, "/ping")).header("x-mock-blackhole", "true").build();
            assertThatThrownBy(() -> client.sendBlocking(slow)).isInstanceOfSatisfying(RequestTimeoutException.class,
                    e -> assertThat(e.phase()).isEqualTo(RequestTimeoutException.Phase.HEADERS));
            assertNoLeasesOut(client);
            assertThat(client.sendBlocking(HttpRequest.newBuilder(https(mock, "/ping")).build()).status()).isEqualTo(200);
        }
    }

    @Test
    void bodyIdleTimeoutNamesItsPhase() {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            HttpRequest req = sse(https(mock, "/v1/chat/completions").toString(), 5, 3000).toBuilder()
                    .bodyIdleTimeout(Duration.ofMillis(200)).build();
            try (StreamingResponse r = client.streamBlocking(req)) {
                assertThatThrownBy(() -> {
                    while (r.nextEventBlocking() != null) {
                        // keep reading until the idle bound trips
                    }
                }).isInstanceOfSatisfying(RequestTimeoutException.class,
                        e -> assertThat(e.phase()).isEqualTo(RequestTimeoutException.Phase.BODY_IDLE));
            }
            assertNoLeasesOut(client);
        }
    }

    @Test
    void totalDeadlineNamesItsPhase() {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            HttpRequest req = HttpRequest.newBuilder(http(mock, "/ping")).header("x-mock-blackhole", "true")
                    .totalTimeout(Duration.ofMillis(200)).build();
            assertThatThrownBy(() -> client.sendBlocking(req)).isInstanceOfSatisfying(RequestTimeoutException.class,
                    e -> assertThat(e.phase()).isEqualTo(RequestTimeoutException.Phase.TOTAL));
            assertNoLeasesOut(client);
        }
    }

    @Test
    void acquireTimeoutNamesItsPhase() {
        try (ConnectionPoolManager client = clientFor(mock)
                .poolConfig(testPool().maxConnections(1).connectionTimeout(Duration.ofMillis(200)).build())
                .timeouts(new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(5), null))
                .build()) {
            CompletableFuture<HttpResponse> hog = client.send(HttpRequest.newBuilder(http(mock, "/ping"))
                    .header("x-mock-blackhole", "true").build());
            await().atMost(Duration.ofSeconds(5)).until(() -> client.stats(Route.of(http(mock, "/"))).leasesOut() == 1);
            assertThatThrownBy(() -> client.sendBlocking(HttpRequest.newBuilder(http(mock, "/ping")).build()))
                    .isInstanceOfSatisfying(RequestTimeoutException.class,
                            e -> assertThat(e.phase()).isEqualTo(RequestTimeoutException.Phase.ACQUIRE));
            hog.cancel(true);
            assertNoLeasesOut(client);
        }
    }

    @Test
    void connectTimeoutNamesItsPhase() throws Exception {
        // accepts TCP but never answers the TLS ClientHello
        try (ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            List<Socket> accepted = new ArrayList<>();
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        accepted.add(silent.accept());
                    }
                } catch (Exception ignored) {
                    // closed
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            try (ConnectionPoolManager client = ConnectionPoolManager.builder()
                    .poolConfig(testPool().connectionTimeout(Duration.ofSeconds(5)).build())
                    .timeouts(new Timeouts(Duration.ofMillis(200), Duration.ofSeconds(5), Duration.ofSeconds(5), null))
                    .build()) {
                HttpRequest req = HttpRequest.newBuilder("https://127.0.0.1:" + silent.getLocalPort() + "/").build();
                assertThatThrownBy(() -> client.sendBlocking(req)).isInstanceOfSatisfying(RequestTimeoutException.class,
                        e -> assertThat(e.phase()).isEqualTo(RequestTimeoutException.Phase.CONNECT));
                assertNoLeasesOut(client);
            }
            for (Socket s : accepted) {
                s.close();
            }
        }
    }

    @Test
    void statusRetriesHonourRetryAfterAndCanBeSwitchedOff() {
        HttpRequest limited = HttpRequest.newBuilder(https(mock, "/ping")).header("x-mock-status", "429")
                .header("x-mock-retry-after-ms", "20").build();
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            mock.resetCounters();
            HttpResponse r = client.sendBlocking(limited);
            assertThat(r.status()).isEqualTo(429);
            assertThat(mock.stats().requests("/ping")).as("1 attempt + 3 retries").isEqualTo(4);
            assertNoLeasesOut(client);
        }
        try (ConnectionPoolManager client = clientFor(mock).statusRetries(false).build()) {
            mock.resetCounters();
            assertThat(client.sendBlocking(limited).status()).isEqualTo(429);
            assertThat(mock.stats().requests("/ping")).isEqualTo(1);
            assertNoLeasesOut(client);
        }
    }
}

package io.sluice.http;

import static io.sluice.http.HttpTestSupport.assertNoLeasesOut;
import static io.sluice.http.HttpTestSupport.chat;
import static io.sluice.http.HttpTestSupport.clientFor;
import static io.sluice.http.HttpTestSupport.https;
import static io.sluice.http.HttpTestSupport.testPool;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.http.internal.transport.Http2Connection;
import io.sluice.http.internal.transport.HttpConnection;
import io.sluice.pool.Lease;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class Http2MultiplexingTest {

    @RegisterExtension
    static final MockProviderExtension MOCK = MockProviderExtension.withOptions(
            MockOptions.builder().maxConcurrentStreams(256).build());
    @InjectMock
    static MockProvider mock;

    private static HttpRequest delayed(long ms) {
        return chat(https(mock, "/v1/chat/completions"), false).toBuilder().header("x-mock-delay-ms", "" + ms).build();
    }

    @Test
    void hundredConcurrentStreamsShareOneConnection() {
        try (ConnectionPoolManager client = clientFor(mock).poolConfig(testPool().maxConnections(1).build()).build()) {
            mock.resetCounters();
            List<CompletableFuture<HttpResponse>> all = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                all.add(client.send(delayed(1500)));
            }
            for (CompletableFuture<HttpResponse> f : all) {
                assertThat(f.join().status()).isEqualTo(200);
            }
            assertThat(mock.stats().maxStreamsOnOneConnection()).isEqualTo(100);
            assertThat(mock.stats().connectionsAccepted()).isEqualTo(1);
            assertNoLeasesOut(client);
        }
    }

    @Test
    void capacityFollowsTheOurCapAndThePeersSettings() {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            client.sendBlocking(HttpRequest.newBuilder(https(mock, "/ping")).build());
            Route route = Route.of(https(mock, "/"));
            Lease<HttpConnection> lease = client.routePool(route).acquire().join();
            try {
                assertThat(lease.connection()).isInstanceOf(Http2Connection.class);
                assertThat(lease.connection().capacity()).isEqualTo(100); // min(256, our 100)
            } finally {
                lease.close();
            }
            assertNoLeasesOut(client);
        }
    }

    @Test
    void settingsLoweringCapacityMidLoadLosesNoRequest() throws Exception {
        MockProvider m = MockProvider.start(MockOptions.builder().maxConcurrentStreams(100).build());
        try (ConnectionPoolManager client = ConnectionPoolManager.builder()
                .poolConfig(testPool().maxConnections(4).build())
                .tls(TlsOptions.builder().trustCertificatePem(m.certificatePem()).build()).build()) {
            HttpRequest req = chat(m.httpsUri().resolve("/v1/chat/completions"), false).toBuilder()
                    .header("x-mock-delay-ms", "300").build();
            List<CompletableFuture<HttpResponse>> all = new ArrayList<>();
            for (int i = 0; i < 150; i++) {
                all.add(client.send(req));
            }
            Thread.sleep(100);
            m.updateMaxConcurrentStreams(10);
            Route route = Route.of(m.httpsUri());
            await().atMost(Duration.ofSeconds(5)).until(() -> {
                Lease<HttpConnection> l = client.routePool(route).tryAcquire();
                if (l == null) {
                    return false;
                }
                int cap = l.connection().capacity();
                l.close();
                return cap <= 10;
            });
            for (int i = 0; i < 150; i++) {
                all.add(client.send(req));
            }
            for (CompletableFuture<HttpResponse> f : all) {
                assertThat(f.join().status()).isEqualTo(200);
            }
            assertNoLeasesOut(client);
        } finally {
            m.close();
        }
    }

    @Test
    void goAwayMidLoadFailsNoRequest() {
        // Like nginx's keepalive_requests: each connection serves a budget of streams, then GOAWAY.
        try (GoAwayServer server = new GoAwayServer(50, 50);
             ConnectionPoolManager client = ConnectionPoolManager.builder().h2cPriorKnowledge(true)
                     .http2(Http2Settings.defaults().withMaxConcurrentStreams(20))
                     .poolConfig(testPool().maxConnections(2).build()).build()) {
            // GET: a Netty server answers DATA for a stream it ignored after its GOAWAY with a connection
            // error, so a POST body racing the GOAWAY would kill the streams below last-stream-id too.
            HttpRequest post = HttpRequest.newBuilder("http://127.0.0.1:" + server.port() + "/v1/models").build();
            List<CompletableFuture<HttpResponse>> all = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                all.add(client.send(post));
            }
            for (CompletableFuture<HttpResponse> f : all) {
                HttpResponse r = f.join();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.bodyAsString()).isEqualTo("ok");
            }
            assertThat(server.goAways.get()).as("GOAWAYs sent mid-load").isGreaterThan(1);
            assertThat(server.answered.get()).as("no request processed twice").isEqualTo(300);
            assertNoLeasesOut(client);
        }
    }

    @Test
    void goAwayDrainsTheConnectionAndTheNextRequestUsesANewOne() {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            mock.resetCounters();
            Route route = Route.of(https(mock, "/"));
            assertThat(client.sendBlocking(HttpRequest.newBuilder(https(mock, "/ping")).build()).status()).isEqualTo(200);
            mock.goAwayAll();
            await().atMost(Duration.ofSeconds(5)).until(() -> client.stats(route).open() == 0);
            assertThat(client.sendBlocking(HttpRequest.newBuilder(https(mock, "/ping")).build()).status()).isEqualTo(200);
            assertThat(mock.stats().connectionsAccepted()).isEqualTo(2);
            assertNoLeasesOut(client);
        }
    }
}

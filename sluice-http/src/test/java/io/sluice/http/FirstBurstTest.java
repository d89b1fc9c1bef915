package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.pool.PoolConfig;
import io.sluice.testkit.MockProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A cold client's first burst to an HTTP/2 route opens one connection, not one per request. */
class FirstBurstTest {

    @Test
    void aBurstOf60OnAColdHttp2RouteOpensOneConnection() throws Exception {
        try (MockProvider mock = MockProvider.start();
             ConnectionPoolManager client = ConnectionPoolManager.builder()
                     .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build())
                     .poolConfig(PoolConfig.builder().minIdle(0).build()).build()) {
            List<CompletableFuture<HttpResponse>> burst = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                burst.add(client.send(HttpRequest.newBuilder(mock.httpsUri().resolve("/v1/models")).GET()
                        .header("authorization", "Bearer sk-test").build()));
            }
            for (CompletableFuture<HttpResponse> f : burst) {
                assertThat(f.get(30, TimeUnit.SECONDS).protocol()).isEqualTo(Protocol.H2);
            }
            assertThat(mock.stats().connectionsAccepted()).isEqualTo(1);
            assertThat(client.stats(Route.of(mock.httpsUri())).created()).isEqualTo(1);
        }
    }

    @Test
    void aBurstOnAColdHttp11RouteStillOpensAConnectionPerRequestInFlight() throws Exception {
        try (MockProvider mock = MockProvider.start();
             ConnectionPoolManager client = ConnectionPoolManager.builder()
                     .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build())
                     .http1Only(true)
                     .poolConfig(PoolConfig.builder().minIdle(0).maxConnections(8).build()).build()) {
            List<CompletableFuture<HttpResponse>> burst = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                burst.add(client.send(HttpRequest.newBuilder(mock.httpsUri().resolve("/v1/models")).GET()
                        .header("authorization", "Bearer sk-test").header("x-mock-delay-ms", "200").build()));
            }
            for (CompletableFuture<HttpResponse> f : burst) {
                assertThat(f.get(30, TimeUnit.SECONDS).protocol()).isEqualTo(Protocol.HTTP_1_1);
            }
            assertThat(mock.stats().connectionsAccepted()).isEqualTo(8);
        }
    }
}

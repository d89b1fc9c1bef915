package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.pool.PoolConfig;
import io.sluice.pool.PoolStats;
import io.sluice.testkit.MockProvider;
import java.net.URI;
import java.time.Duration;
import java.util.Map;

/** Shared helpers: clients that trust the mock and exact pool accounting (Netty leak checks: the testkit's NettyLeakCheck). */
final class HttpTestSupport {

    private HttpTestSupport() {
    }

    /** Pool settings for tests: no pre-warm, so connection counts are the tests' own. */
    static PoolConfig.Builder testPool() {
        return PoolConfig.builder().minIdle(0).maxRetries(0);
    }

    static ConnectionPoolManager.Builder clientFor(MockProvider mock) {
        return ConnectionPoolManager.builder()
                .poolConfig(testPool().build())
                .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build());
    }

    static URI https(MockProvider mock, String path) {
        return mock.httpsUri().resolve(path);
    }

    static URI http(MockProvider mock, String path) {
        return mock.httpUri().resolve(path);
    }

    static HttpRequest chat(URI uri, boolean stream) {
        return HttpRequest.newBuilder(uri)
                .POST("{\"model\":\"gpt-4o-mini\",\"stream\":" + stream
                        + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                .header("content-type", "application/json")
                .header("authorization", "Bearer sk-test-secret")
                .build();
    }

    /** Waits until every pool of the client has no lease out (releases run on event loops). */
    static void assertNoLeasesOut(ConnectionPoolManager client) {
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            for (Map.Entry<Route, PoolStats> e : client.allStats().entrySet()) {
                assertThat(e.getValue().leasesOut()).as("leasesOut of %s", e.getKey()).isZero();
                assertThat(e.getValue().pending()).as("pending of %s", e.getKey()).isZero();
            }
        });
    }
}

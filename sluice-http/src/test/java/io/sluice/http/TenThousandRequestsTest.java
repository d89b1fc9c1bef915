package io.sluice.http;

import static io.sluice.http.HttpTestSupport.assertNoLeasesOut;
import static io.sluice.http.HttpTestSupport.chat;
import static io.sluice.http.HttpTestSupport.clientFor;
import static io.sluice.http.HttpTestSupport.https;
import static io.sluice.http.HttpTestSupport.testPool;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import io.sluice.testkit.junit.NettyLeakCheck;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class TenThousandRequestsTest {

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void tenThousandConcurrentRequestsOverAtMostHundredConnectionsWithoutError() {
        try (MockProvider mock = MockProvider.start(MockOptions.defaults());
             ConnectionPoolManager client = clientFor(mock)
                     .poolConfig(testPool().maxConnections(100).connectionTimeout(Duration.ofSeconds(30)).build())
                     .build()) {
            HttpRequest req = chat(https(mock, "/v1/chat/completions"), false);
            AtomicInteger errors = new AtomicInteger();
            List<CompletableFuture<HttpResponse>> all = new ArrayList<>(10_000);
            for (int i = 0; i < 10_000; i++) {
                all.add(client.send(req).whenComplete((r, e) -> {
                    if (e != null || r.status() != 200) {
                        errors.incrementAndGet();
                    }
                }));
            }
            CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).exceptionally(e -> null).join();
            assertThat(errors.get()).isZero();
            assertThat(mock.stats().connectionsAccepted()).isLessThanOrEqualTo(100);
            assertThat(mock.stats().requests("/v1/chat/completions")).isEqualTo(10_000);
            assertNoLeasesOut(client);
        }
        NettyLeakCheck.assertNoLeaks();
    }
}

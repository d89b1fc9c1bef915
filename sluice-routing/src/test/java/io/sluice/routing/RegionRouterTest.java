package io.sluice.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.RouteUnavailableException;
import io.sluice.http.TlsOptions;
import io.sluice.pool.PoolConfig;
import io.sluice.pool.PoolScheduler;
import io.sluice.pool.Ticker;
import io.sluice.testkit.MockBehavior;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RegionRouterTest {

    private static final String CHAT = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final ScheduledExecutorService scheduler = PoolScheduler.newScheduler("geo-test");

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        scheduler.shutdownNow();
    }

    private MockProvider mock(MockBehavior behavior) {
        MockProvider m = MockProvider.start(MockOptions.builder().behavior(behavior).build());
        closeables.add(m);
        return m;
    }

    private RegionRouter router(Map<String, MockProvider> regions) {
        TlsOptions.Builder tls = TlsOptions.builder();
        Map<String, URI> bases = new LinkedHashMap<>();
        regions.forEach((name, m) -> {
            tls.trustCertificatePem(m.certificatePem());
            bases.put(name, m.httpsUri());
        });
        // Headers bounded at 5 s, not 30: on a loaded runner the slow region's first probe (250 ms plus a cold TLS
        // connect) can pass the 1 s probe timeout and tie with the black hole, and a fail-over that lands on the black
        // hole must time out and fail over again within the test's bound (seen once in CI: a 30 s wait).
        ConnectionPoolManager client = ConnectionPoolManager.builder().tls(tls.build()).statusRetries(false)
                .timeouts(new io.sluice.http.Timeouts(Duration.ofSeconds(10), Duration.ofSeconds(5),
                        Duration.ofSeconds(30), null))
                .poolConfig(PoolConfig.builder().minIdle(0).build()).build();
        closeables.add(client);
        RegionRouter.Settings settings = new RegionRouter.Settings("us-east-1", Duration.ofSeconds(30), "/ping",
                Duration.ofMillis(1000), Duration.ofSeconds(10));
        RegionRouter router = new RegionRouter(client, bases, settings, scheduler, Ticker.system(), Clock.systemUTC());
        closeables.add(router);
        return router;
    }

    private static HttpRequest chat() {
        return HttpRequest.newBuilder("https://placeholder.invalid/v1/chat/completions").POST(CHAT)
                .header("content-type", "application/json").header("authorization", "Bearer sk-test").build();
    }

    @Test
    void routesToTheFastestHealthyRegionAndFailsOverFromARateLimitedOne() throws Exception {
        // Each first probe also pays for a cold TLS connect (tens of ms on a loaded 2-core runner, once more than
        // 80 ms): the slow region is slower by a margin that connect cannot close.
        MockProvider slow = mock(MockBehavior.builder().delayMs(250).build());
        MockProvider fast = mock(MockBehavior.defaults());
        MockProvider hole = mock(MockBehavior.builder().blackhole(true).build());
        MockProvider limited = mock(MockBehavior.builder().status(429).retryAfterMs(20_000).build());
        Map<String, MockProvider> regions = new LinkedHashMap<>();
        regions.put("us-east-1", slow);
        regions.put("eu-west-1", fast);
        regions.put("ap-south-1", hole);
        regions.put("sa-east-1", limited);
        RegionRouter router = router(regions);

        assertThat(router.bestRegion()).as("before any data").isEqualTo("us-east-1");
        router.probeAll().get(30, TimeUnit.SECONDS);
        assertThat(router.bestRegion()).isEqualTo("eu-west-1");
        assertThat(router.selector().latencies().get("ap-south-1")).as("black hole penalised")
                .isGreaterThanOrEqualTo(Duration.ofSeconds(1));

        HttpResponse ok = router.send(chat()).get(30, TimeUnit.SECONDS);
        assertThat(ok.status()).isEqualTo(200);
        assertThat(fast.stats().requests("/v1/chat/completions")).isEqualTo(1);

        // The fastest region starts rate limiting: the request fails over at once and the region cools down.
        fast.behavior(MockBehavior.builder().status(429).retryAfterMs(15_000).build());
        HttpResponse failedOver = router.send(chat()).get(30, TimeUnit.SECONDS);
        assertThat(failedOver.status()).isEqualTo(200);
        assertThat(slow.stats().requests("/v1/chat/completions")).isEqualTo(1);
        assertThat(router.selector().cooldowns()).containsKey("eu-west-1");
        assertThat(router.selector().cooldowns().get("eu-west-1")).isGreaterThan(Duration.ofSeconds(10))
                .isLessThanOrEqualTo(Duration.ofSeconds(15));
        assertThat(router.bestRegion()).isEqualTo("us-east-1");
        router.send(chat()).get(30, TimeUnit.SECONDS);
        assertThat(fast.stats().requests("/v1/chat/completions")).as("cooling region skipped").isEqualTo(2);
    }

    @Test
    void whenEveryRegionIsCoolingTheErrorSaysWhenTheFirstFrees() throws Exception {
        MockProvider a = mock(MockBehavior.builder().status(429).retryAfterMs(30_000).build());
        MockProvider b = mock(MockBehavior.builder().status(503).retryAfterMs(10_000).build());
        Map<String, MockProvider> regions = new LinkedHashMap<>();
        regions.put("us-east-1", a);
        regions.put("eu-west-1", b);
        RegionRouter router = router(regions);
        HttpResponse last = router.send(chat()).get(30, TimeUnit.SECONDS);
        assertThat(last.status()).as("the last region's answer reaches the caller").isIn(429, 503);
        assertThatThrownBy(() -> router.send(chat()).get(30, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).cause().isInstanceOf(RouteUnavailableException.class)
                .hasMessageContaining("the first to free is eu-west-1");
    }

    @Test
    void aDeadRegionIsSkippedByFailover() throws Exception {
        MockProvider alive = mock(MockBehavior.defaults());
        MockProvider dead = mock(MockBehavior.defaults());
        URI deadBase = dead.httpsUri();
        Map<String, MockProvider> regions = new LinkedHashMap<>();
        regions.put("us-east-1", dead);
        regions.put("eu-west-1", alive);
        RegionRouter router = router(regions);
        dead.close(); // connection refused from now on
        HttpResponse r = router.send(chat()).get(30, TimeUnit.SECONDS);
        assertThat(r.status()).isEqualTo(200);
        assertThat(alive.stats().requests("/v1/chat/completions")).isEqualTo(1);
        assertThat(router.baseUri("us-east-1")).isEqualTo(deadBase);
    }
}

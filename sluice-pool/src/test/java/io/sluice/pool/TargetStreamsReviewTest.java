package io.sluice.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.pool.FakeConnectionManager.Conn;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Review of 4263ce2 (targetStreamsPerConnection). */
class TargetStreamsReviewTest {

    private final FakeConnectionManager manager = new FakeConnectionManager();
    private final ManualTicker ticker = new ManualTicker();
    private final ScheduledExecutorService scheduler = PoolScheduler.newScheduler("review3");
    private final List<Pool<?>> pools = new ArrayList<>();

    @AfterEach
    void tearDown() {
        pools.forEach(Pool::closeNow);
        scheduler.shutdownNow();
    }

    private Pool<Conn> pool(PoolConfig.Builder config) {
        Pool<Conn> p = Pool.builder(manager).name("review3").config(config.build()).ticker(ticker)
                .scheduler(scheduler).periodicHousekeeping(false).build();
        pools.add(p);
        return p;
    }

    private static PoolConfig.Builder cfg(int max) {
        return PoolConfig.builder().maxConnections(max).minIdle(0).validationBypassWindow(Duration.ZERO)
                .maxRetries(0).failureBackoff(Duration.ofMillis(100)).maxFailureBackoff(Duration.ofMillis(100));
    }

    /**
     * One failed target connect leaves the backoff "failing" until some connect succeeds, but only the
     * demand path (waiters) and the minIdle top-up ever probe. With slots above the target nobody waits and
     * minIdle is 0, so no probe ever runs and connectForTarget refuses for good: the target is dead until
     * the connection is completely full.
     */
    @Test
    @Timeout(10)
    void aFailedTargetConnectDoesNotDisableTheTargetForEver() {
        manager.capacity = 100;
        Pool<Conn> p = pool(cfg(5).targetStreamsPerConnection(2));
        List<Lease<Conn>> leases = new ArrayList<>();
        leases.add(p.acquire().join());
        leases.add(p.acquire().join());
        assertThat(p.stats().created()).isEqualTo(1);

        manager.failNextConnects = 1; // one transient failure
        leases.add(p.acquire().join()); // above the target: its connect fails, the pool backs off
        assertThat(manager.connectAttempts.get()).isEqualTo(2);

        ticker.advance(Duration.ofSeconds(10)); // far past the 100 ms pause; the upstream is fine again
        p.runHousekeeping();
        for (int i = 0; i < 20; i++) {
            leases.add(p.acquire().join()); // 23 leases on one connection, target 2
        }
        try {
            assertThat(p.stats().created())
                    .as("a connection for the target once the backoff pause has passed (connect attempts: %s)",
                            manager.connectAttempts.get())
                    .isGreaterThanOrEqualTo(2);
        } finally {
            leases.forEach(Lease::close);
        }
    }

}

package io.sluice.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.pool.FakeConnectionManager.Conn;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * "A failing upstream is not pressed with replacements" (docs/pool.md), for the demand,
 * replenish and health paths: connect attempts are counted with a manager whose connect
 * fails, over intervals driven by a manual ticker (periodic housekeeping off, so the test
 * runs each round itself).
 */
@Timeout(30)
class FailingUpstreamTest {

    private final FakeConnectionManager manager = new FakeConnectionManager();
    private final ManualTicker ticker = new ManualTicker();
    private final ScheduledExecutorService scheduler = PoolScheduler.newScheduler("failing-test");
    private final List<Pool<?>> pools = new ArrayList<>();

    @AfterEach
    void tearDown() {
        pools.forEach(Pool::closeNow);
        scheduler.shutdownNow();
    }

    private Pool<Conn> pool(PoolConfig.Builder config) {
        Pool<Conn> p = Pool.builder(manager).name("failing").config(config.build()).ticker(ticker)
                .scheduler(scheduler).periodicHousekeeping(false).build();
        pools.add(p);
        return p;
    }

    private static PoolConfig.Builder cfg(int max) {
        return PoolConfig.builder().maxConnections(max).minIdle(0).validationBypassWindow(Duration.ZERO)
                .connectionTimeout(Duration.ofMillis(300));
    }

    /** One connection open and leased, the next acquire waits, every connect from now on fails synchronously. */
    private Lease<Conn> fullPoolThenFailingConnects(Pool<Conn> p) {
        Lease<Conn> held = p.acquire().join();
        manager.failAllConnects.set(true);
        return held;
    }

    @Test
    void aSynchronouslyFailingConnectBehindAFullConnectionIsTriedOnceNotInALoopInsideAcquire() {
        Pool<Conn> p = pool(cfg(2).maxRetries(0));
        Lease<Conn> held = fullPoolThenFailingConnects(p);
        CompletableFuture<Lease<Conn>> waiter = p.acquire();
        assertThat(manager.connectAttempts.get()).as("the first connect, then one failing attempt").isEqualTo(2);
        // The waiter may still be served by the open connection: it keeps waiting, for it.
        assertThat(waiter).isNotDone();
        held.close();
        assertThat(waiter).isDone();
        waiter.join().close();
        assertThat(manager.connectAttempts.get()).isEqualTo(2);
    }

    @Test
    void aSynchronouslyFailingConnectBehindAFullMultiplexedConnectionIsTriedOnce() {
        manager.capacity = 2;
        Pool<Conn> p = pool(cfg(2).maxRetries(0));
        Lease<Conn> a = p.acquire().join();
        Lease<Conn> b = p.acquire().join();
        assertThat(b.connection()).isSameAs(a.connection());
        manager.failAllConnects.set(true);
        CompletableFuture<Lease<Conn>> waiter = p.acquire();
        assertThat(manager.connectAttempts.get()).isEqualTo(2);
        assertThat(waiter).isNotDone();
        b.close();
        waiter.join().close();
        a.close();
        assertThat(p.stats().connectBackoffs()).isEqualTo(1);
    }

    @Test
    void aNonRetryableConnectFailureBehindAFullConnectionIsTriedOnce() {
        Pool<Conn> p = pool(cfg(2));
        Lease<Conn> held = fullPoolThenFailingConnects(p);
        manager.connectError = () -> new PoolTest.Rejected();
        CompletableFuture<Lease<Conn>> waiter = p.acquire();
        assertThat(manager.connectAttempts.get()).isEqualTo(2);
        held.close();
        waiter.join().close();
    }

    @Test
    void anAsynchronouslyFailingConnectIsNotFollowedByAnotherUntilTheBackoffHasPassed() {
        Pool<Conn> p = pool(cfg(2).maxRetries(0).connectionTimeout(Duration.ofSeconds(20)));
        Lease<Conn> held = p.acquire().join();
        manager.holdConnects = true;
        CompletableFuture<Lease<Conn>> waiter = p.acquire();
        assertThat(manager.heldConnects).hasSize(1);
        manager.failOneConnect(new IOException("refused (fake)"));
        assertThat(manager.heldConnects).as("no back-to-back connect").isEmpty();
        assertThat(manager.connectAttempts.get()).isEqualTo(2);
        // Housekeeping within the backoff starts nothing either.
        p.runHousekeeping();
        assertThat(manager.heldConnects).isEmpty();
        // After the longest possible first step (the default 1 s), one connect probes the route again.
        ticker.advance(Duration.ofSeconds(1));
        p.runHousekeeping();
        assertThat(manager.heldConnects).hasSize(1);
        manager.completeOneConnect();
        assertThat(waiter).isDone();
        waiter.join().close();
        held.close();
    }

    @Test
    void aWaiterBehindAFullConnectionCausesBoundedProbesOverAMinuteOfFailures() {
        Pool<Conn> p = pool(cfg(2).maxRetries(0).connectionTimeout(Duration.ofMinutes(5)));
        Lease<Conn> held = fullPoolThenFailingConnects(p);
        CompletableFuture<Lease<Conn>> waiter = p.acquire();
        for (int second = 0; second < 60; second++) {
            ticker.advance(Duration.ofSeconds(1));
            p.runHousekeeping(); // runs the drain loop, as a release or the backoff's wake-up would
        }
        // At most 8 pauses fit in 60 s (see below), one probe after each; without the backoff, thousands.
        assertThat(manager.connectAttempts.get() - 1).isBetween(4, 9);
        assertThat(waiter).isNotDone();
        held.close();
        waiter.join().close();
    }

    @Test
    void replenishAgainstARefusedPortBacksOffInsteadOfStartingMinIdleConnectsEverySecond() {
        manager.failAllConnects.set(true);
        Pool<Conn> p = pool(cfg(10).minIdle(5).maxRetries(0));
        int preWarm = manager.connectAttempts.get();
        assertThat(preWarm).as("the pre-warm").isBetween(1, 5);
        for (int second = 0; second < 60; second++) {
            ticker.advance(Duration.ofSeconds(1));
            p.runHousekeeping();
        }
        // Steps of at most 1, 2, 4, 8, 16, 30, 30 s and at least half of each: at most 8 probes in 60 s,
        // one connect each; without the backoff, 5 connects every second (305).
        assertThat(manager.connectAttempts.get() - preWarm).isBetween(3, 8);
        PoolStats s = p.stats();
        assertThat(s.connectAttempts()).isEqualTo(manager.connectAttempts.get());
        assertThat(s.connectBackoffs()).as("one pause per round of failures").isBetween(4L, 9L);
    }

    @Test
    void aWaiterBehindAFullConnectionTimesOutWithTheConnectFailureAsItsCause() {
        Pool<Conn> p = pool(cfg(2).maxRetries(0));
        Lease<Conn> held = fullPoolThenFailingConnects(p);
        CompletableFuture<Lease<Conn>> waiter = p.acquire();
        assertThatThrownBy(() -> waiter.get(5, TimeUnit.SECONDS)).cause()
                .isInstanceOf(PoolTimeoutException.class).hasCauseInstanceOf(IOException.class)
                .hasMessageContaining("connects are failing");
        assertThat(manager.connectAttempts.get()).isEqualTo(2);
        assertThat(p.stats().connectBackoffs()).isEqualTo(1);
        held.close();
    }

    @Test
    void theBackoffResetsOnTheFirstSuccessAndTheWarmFloorIsRestoredThen() {
        manager.failAllConnects.set(true);
        Pool<Conn> p = pool(cfg(10).minIdle(3).maxRetries(0));
        int preWarm = manager.connectAttempts.get();
        p.runHousekeeping();
        assertThat(manager.connectAttempts.get()).as("nothing within the backoff").isEqualTo(preWarm);
        manager.failAllConnects.set(false);
        ticker.advance(Duration.ofSeconds(1));
        p.runHousekeeping();
        assertThat(p.stats().open()).as("the probe and, once it succeeded, the rest").isEqualTo(3);
        assertThat(manager.connectAttempts.get() - preWarm).isEqualTo(3);
    }

    @Test
    void waitersWithNothingLeftToWaitForFailWithTheConnectFailureAndItsCause() {
        manager.failAllConnects.set(true);
        Pool<Conn> p = pool(cfg(2).maxRetries(0).connectionTimeout(Duration.ofSeconds(20)));
        CompletableFuture<Lease<Conn>> first = p.acquire();
        assertThatThrownBy(() -> first.get(5, TimeUnit.SECONDS)).cause()
                .isInstanceOf(ConnectFailedException.class).hasCauseInstanceOf(IOException.class);
        // Backing off, nothing open and the backoff ends before the waiter's timeout: it waits for the next probe.
        CompletableFuture<Lease<Conn>> second = p.acquire();
        assertThat(second).isNotDone();
        assertThat(manager.connectAttempts.get()).isEqualTo(1);
        manager.failAllConnects.set(false);
        ticker.advance(Duration.ofSeconds(1));
        p.runHousekeeping();
        assertThat(second).isDone();
        second.join().close();
    }

    @Test
    void aCallerArrivingDuringAPauseLongerThanItsTimeoutFailsAtOnceWithTheConnectFailure() {
        manager.failAllConnects.set(true);
        Pool<Conn> p = pool(cfg(2).maxRetries(0).failureBackoff(Duration.ofSeconds(20))
                .maxFailureBackoff(Duration.ofSeconds(20)));
        assertThatThrownBy(() -> p.acquire().get(5, TimeUnit.SECONDS)).cause()
                .isInstanceOf(ConnectFailedException.class);
        CompletableFuture<Lease<Conn>> late = p.acquire();
        assertThat(late).as("it could only time out").isCompletedExceptionally();
        assertThatThrownBy(late::join).cause().isInstanceOf(ConnectFailedException.class)
                .hasCauseInstanceOf(IOException.class);
        assertThat(manager.connectAttempts.get()).isEqualTo(1);
        assertThat(p.stats().pending()).isZero();
    }

    @Test
    void closingIdleConnectionsDoesNotReopenThemAtOnce() {
        Pool<Conn> p = pool(cfg(10).minIdle(3));
        p.warmUp().join();
        assertThat(manager.connectAttempts.get()).isEqualTo(3);
        assertThat(p.closeIdleConnections()).isEqualTo(3);
        assertThat(manager.connectAttempts.get()).as("no replacements at once").isEqualTo(3);
        assertThat(p.stats().connecting()).isZero();
    }

    @Test
    void anUnhealthyPoolWhoseIdleConnectionsWereClosedIsNotRefilledWhileItsTopUpIsPaused() {
        Pool<Conn> p = pool(cfg(10).minIdle(3));
        p.warmUp().join();
        manager.failAllConnects.set(true);
        p.pauseReplenish(true); // what the health monitor does for an unhealthy route
        assertThat(p.closeIdleConnections()).isEqualTo(3);
        for (int second = 0; second < 60; second++) {
            ticker.advance(Duration.ofSeconds(1));
            p.runHousekeeping();
        }
        assertThat(manager.connectAttempts.get()).as("nothing pressed on the unhealthy upstream").isEqualTo(3);
        manager.failAllConnects.set(false);
        p.pauseReplenish(false);
        assertThat(p.stats().open()).as("topped up at once when resumed").isEqualTo(3);
    }

    /**
     * One failed target connect puts the pool in backoff until some connect succeeds, and with a target nobody
     * waits (the leases go above it) while minIdle is 0, so neither the demand path nor the top-up probes: the
     * target's own connect must probe once the pause has passed, or the target stays off until the connection
     * is full.
     */
    @Test
    @Timeout(10)
    void aFailedTargetConnectDoesNotDisableTheTargetForEver() {
        manager.capacity = 100;
        Pool<Conn> p = pool(cfg(5).maxRetries(0).failureBackoff(Duration.ofMillis(100))
                .maxFailureBackoff(Duration.ofMillis(100)).targetStreamsPerConnection(2));
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

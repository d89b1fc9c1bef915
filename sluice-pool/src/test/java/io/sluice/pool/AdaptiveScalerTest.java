package io.sluice.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.pool.FakeConnectionManager.Conn;
import io.sluice.pool.ScalingDecision.Action;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AdaptiveScalerTest {

    private final FakeConnectionManager manager = new FakeConnectionManager();
    private final ManualTicker ticker = new ManualTicker();
    private final ScheduledExecutorService scheduler = PoolScheduler.newScheduler("scaler-test");
    private final List<Lease<Conn>> held = new ArrayList<>();
    private Pool<Conn> pool;

    @AfterEach
    void tearDown() {
        held.forEach(Lease::close);
        if (pool != null) {
            pool.close();
        }
        scheduler.shutdownNow();
    }

    private Pool<Conn> pool(int max, int minIdle) {
        pool = Pool.builder(manager).name("scaled").ticker(ticker).scheduler(scheduler).periodicHousekeeping(false)
                .config(PoolConfig.builder().maxConnections(max).minIdle(minIdle)
                        .validationBypassWindow(Duration.ZERO).connectionTimeout(Duration.ofSeconds(30)).build())
                .build();
        pool.warmUp().join();
        return pool;
    }

    private void hold(int n) {
        for (int i = 0; i < n; i++) {
            held.add(pool.acquire().join());
        }
    }

    @Test
    void aWaiterServedByAGrowthRunsItsContinuationOutsideTheScalersLock() throws Exception {
        pool(10, 0);
        hold(10);
        AdaptiveScaler scaler = new AdaptiveScaler(pool, AdaptiveScaler.Settings.defaults(), ticker);
        CompletableFuture<Lease<Conn>> waiter = pool.acquire();
        // Synthetic load: the waiter waits ~150 ms for a slot, above the 100 ms threshold.
        scheduler.schedule(() -> held.remove(0).close(), 150, TimeUnit.MILLISECONDS);
        held.add(waiter.get(5, TimeUnit.SECONDS));
        scaler.sample();
        List<Boolean> lockHeld = new CopyOnWriteArrayList<>();
        CompletableFuture<Lease<Conn>> blocked = pool.acquire();
        blocked.thenAccept(l -> lockHeld.add(Thread.holdsLock(scaler)));
        ScalingDecision d = scaler.evaluate();
        assertThat(d.action()).isEqualTo(Action.GROW);
        held.add(blocked.get(5, TimeUnit.SECONDS));
        assertThat(lockHeld).as("the continuation ran on the evaluating thread, outside the lock").containsExactly(false);
    }

    @Test
    void longWaitsGrowTheLivePoolByTwentyPercentAndServeTheWaiters() throws Exception {
        pool(10, 0);
        hold(10);
        AdaptiveScaler scaler = new AdaptiveScaler(pool, AdaptiveScaler.Settings.defaults(), ticker);
        CompletableFuture<Lease<Conn>> waiter = pool.acquire();
        // Synthetic load: the waiter waits ~150 ms for a slot, above the 100 ms threshold.
        scheduler.schedule(() -> held.remove(0).close(), 150, TimeUnit.MILLISECONDS);
        held.add(waiter.get(5, TimeUnit.SECONDS));
        scaler.sample();
        CompletableFuture<Lease<Conn>> blocked = pool.acquire();
        assertThat(blocked).isNotDone();

        ScalingDecision d = scaler.evaluate();

        assertThat(d.action()).isEqualTo(Action.GROW);
        assertThat(d.from()).isEqualTo(10);
        assertThat(d.to()).isEqualTo(12);
        assertThat(d.meanWaitMillis()).isGreaterThan(100);
        assertThat(d.acquisitions()).isEqualTo(1);
        assertThat(pool.maxConnections()).isEqualTo(12);
        held.add(blocked.get(5, TimeUnit.SECONDS));
        assertThat(pool.stats().open()).isEqualTo(11);
    }

    @Test
    void lowUtilisationShrinksByTwentyPercentDownToTen() {
        pool(100, 10);
        hold(1);
        AdaptiveScaler scaler = new AdaptiveScaler(pool, AdaptiveScaler.Settings.defaults(), ticker);
        for (int i = 0; i < 5; i++) {
            scaler.sample();
        }
        ScalingDecision d = scaler.evaluate();
        assertThat(d.action()).isEqualTo(Action.SHRINK);
        assertThat(d.utilisation()).isEqualTo(0.1);
        assertThat(d.to()).isEqualTo(80);
        assertThat(pool.maxConnections()).isEqualTo(80);
        List<Integer> limits = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            scaler.sample();
            limits.add(scaler.evaluate().to());
        }
        assertThat(limits).startsWith(64, 51, 40, 32, 25, 20, 16, 12, 10, 10);
        assertThat(scaler.decisions().get(scaler.decisions().size() - 1).action()).isEqualTo(Action.HOLD);
    }

    @Test
    void moderateLoadHolds() {
        pool(20, 10);
        hold(5);
        AdaptiveScaler scaler = new AdaptiveScaler(pool, AdaptiveScaler.Settings.defaults(), ticker);
        scaler.sample();
        scaler.sample();
        ScalingDecision d = scaler.evaluate();
        assertThat(d.utilisation()).isEqualTo(0.5);
        assertThat(d.action()).isEqualTo(Action.HOLD);
        assertThat(pool.maxConnections()).isEqualTo(20);
    }

    @Test
    void growthStopsAtTheUpperBound() throws Exception {
        pool(450, 0);
        pool.setMaxConnections(1);
        hold(1);
        AdaptiveScaler scaler = new AdaptiveScaler(pool, AdaptiveScaler.Settings.defaults(), ticker);
        pool.setMaxConnections(450);
        pool.setMaxConnections(1);
        CompletableFuture<Lease<Conn>> waiter = pool.acquire();
        scheduler.schedule(() -> held.remove(0).close(), 150, TimeUnit.MILLISECONDS);
        held.add(waiter.get(5, TimeUnit.SECONDS));
        pool.setMaxConnections(450);
        ScalingDecision d = scaler.evaluate();
        assertThat(d.action()).isEqualTo(Action.GROW);
        assertThat(d.to()).isEqualTo(500);
    }

    @Test
    void decisionsAreKeptWithInputsAndListenersAreTold() {
        pool(50, 0);
        AdaptiveScaler scaler = new AdaptiveScaler(pool, AdaptiveScaler.Settings.defaults(), ticker);
        List<ScalingDecision> seen = new CopyOnWriteArrayList<>();
        scaler.addListener(seen::add);
        ScalingDecision d = scaler.evaluate();
        assertThat(d.utilisation()).as("no connection open, nobody waiting").isZero();
        assertThat(d.samples()).isEqualTo(1);
        assertThat(seen).containsExactly(d);
        assertThat(scaler.decisions()).containsExactly(d);
        assertThat(d.toString()).contains("SHRINK pool 'scaled' maxConnections 50 -> 40");
    }

    @Test
    void runsOnItsScheduleWithAShortenedInterval() {
        pool(30, 0);
        AdaptiveScaler.Settings fast = AdaptiveScaler.Settings.defaults().withInterval(Duration.ofMillis(40));
        try (AdaptiveScaler scaler = new AdaptiveScaler(pool, fast, ticker).start(scheduler)) {
            await().atMost(Duration.ofSeconds(5)).until(() -> pool.maxConnections() == 10);
            assertThat(scaler.decisions()).extracting(ScalingDecision::action).contains(Action.SHRINK);
        }
    }
}

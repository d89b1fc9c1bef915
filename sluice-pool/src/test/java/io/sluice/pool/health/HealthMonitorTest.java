package io.sluice.pool.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.pool.ConnectionManager;
import io.sluice.pool.Pool;
import io.sluice.pool.PoolConfig;
import io.sluice.pool.PoolScheduler;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HealthMonitorTest {

    /** Connections are plain objects; counts how many the pool closed. */
    static final class Objects implements ConnectionManager<Object> {
        final AtomicInteger closed = new AtomicInteger();
        final AtomicInteger connects = new AtomicInteger();

        @Override
        public CompletionStage<Object> connect(io.sluice.pool.ConnectionEvents<Object> events) {
            connects.incrementAndGet();
            return CompletableFuture.completedFuture(new Object());
        }

        @Override
        public CompletionStage<Void> validate(Object c) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public boolean hasBroken(Object c) {
            return false;
        }

        @Override
        public int capacity(Object c) {
            return 1;
        }

        @Override
        public void close(Object c) {
            closed.incrementAndGet();
        }
    }

    /** Answers a scripted sequence of outcomes; "S" succeeds after advancing the ticker by 3 ms, "F" fails, "H" hangs. */
    static final class ScriptedProbe implements HealthProbe {
        final ArrayDeque<Character> script = new ArrayDeque<>();
        final AtomicLong ticker;

        ScriptedProbe(AtomicLong ticker, String outcomes) {
            this.ticker = ticker;
            outcomes.chars().forEach(c -> script.add((char) c));
        }

        @Override
        public synchronized CompletionStage<?> probe() {
            char c = script.isEmpty() ? 'S' : script.poll();
            if (c == 'S') {
                ticker.addAndGet(3_000_000);
                return CompletableFuture.completedFuture(null);
            }
            if (c == 'H') {
                return new CompletableFuture<>();
            }
            return CompletableFuture.failedFuture(new IOException("probe failed (scripted)"));
        }
    }

    private final ScheduledExecutorService scheduler = PoolScheduler.newScheduler("health-test");
    private final AtomicLong now = new AtomicLong();
    private final Objects manager = new Objects();
    private final Pool<Object> pool = Pool.builder(manager).name("route").scheduler(scheduler)
            .config(PoolConfig.builder().maxConnections(5).minIdle(3).build()).build();
    private final Clock clock = Clock.fixed(Instant.parse("2026-11-26T12:00:00Z"), ZoneOffset.UTC);

    @AfterEach
    void tearDown() {
        pool.close();
        scheduler.shutdownNow();
    }

    private HealthMonitor monitor(Duration probeTimeout) {
        return new HealthMonitor(new HealthMonitor.Settings(Duration.ofSeconds(30), 5, probeTimeout), scheduler, now::get, clock);
    }

    @Test
    void healthyWhenMoreThanHalfOfFiveProbesSucceed() {
        HealthMonitor m = monitor(Duration.ofSeconds(2));
        m.register("route", pool, new ScriptedProbe(now, "SFSFS"));
        HealthStatus s = m.checkNow("route").join();
        assertThat(s.healthy()).isTrue();
        assertThat(s.successRate()).isEqualTo(0.6);
        assertThat(s.averageLatency()).isEqualTo(Duration.ofMillis(3));
        assertThat(s.lastCheck()).isEqualTo(clock.instant());
        assertThat(s.consecutiveFailures()).isZero();
        assertThat(s.rounds()).isEqualTo(1);
    }

    @Test
    void unhealthyPoolHasItsIdleConnectionsClosedAndListenersAreTold() {
        pool.warmUp().join();
        HealthMonitor m = monitor(Duration.ofSeconds(2));
        List<String> changes = new CopyOnWriteArrayList<>();
        m.addListener((name, before, after) -> changes.add(name + ":" + before.healthy() + "->" + after.healthy()));
        m.register("route", pool, new ScriptedProbe(now, "SFSFF" + "SSSSS"));
        HealthStatus s = m.checkNow("route").join();
        assertThat(s.healthy()).isFalse();
        assertThat(s.successRate()).isEqualTo(0.4);
        assertThat(manager.closed.get()).as("idle connections closed").isEqualTo(3);
        assertThat(m.checkNow("route").join().healthy()).isTrue();
        assertThat(changes).containsExactly("route:true->false", "route:false->true");
    }

    @Test
    void anUnhealthyPoolIsNotRefilledUntilItIsHealthyAgain() {
        pool.warmUp().join();
        assertThat(manager.connects.get()).isEqualTo(3);
        HealthMonitor m = monitor(Duration.ofSeconds(2));
        m.register("route", pool, new ScriptedProbe(now, "FFFFF" + "SSSSS"));
        assertThat(m.checkNow("route").join().healthy()).isFalse();
        assertThat(manager.closed.get()).isEqualTo(3);
        assertThat(manager.connects.get()).as("no idle connection reopened at once").isEqualTo(3);
        pool.setMinIdle(4); // a top-up pass runs now: it keeps off the unhealthy route as well
        assertThat(manager.connects.get()).isEqualTo(3);
        assertThat(m.checkNow("route").join().healthy()).isTrue();
        assertThat(pool.warmUp()).succeedsWithin(Duration.ofSeconds(5));
        assertThat(manager.connects.get()).as("the warm floor is restored once healthy").isEqualTo(3 + 4);
    }

    @Test
    void consecutiveFailuresAreCountedAcrossRounds() {
        HealthMonitor m = monitor(Duration.ofSeconds(2));
        m.register("route", pool, new ScriptedProbe(now, "SSSFF" + "FFFFF" + "FSSSS"));
        assertThat(m.checkNow("route").join().consecutiveFailures()).isEqualTo(2);
        assertThat(m.checkNow("route").join().consecutiveFailures()).as("the seed would say 5").isEqualTo(7);
        assertThat(m.checkNow("route").join().consecutiveFailures()).isZero();
    }

    @Test
    void aProbeThatNeverAnswersFailsAtItsTimeout() {
        HealthMonitor m = monitor(Duration.ofMillis(20));
        m.register("route", pool, new ScriptedProbe(now, "HHHSS"));
        HealthStatus s = m.checkNow("route").join();
        assertThat(s.healthy()).isFalse();
        assertThat(s.successRate()).isEqualTo(0.4);
    }

    @Test
    void roundsRunOnTheirSchedule() {
        HealthMonitor m = new HealthMonitor(new HealthMonitor.Settings(Duration.ofMillis(20), 5, Duration.ofSeconds(1)),
                scheduler, now::get, clock);
        m.register("route", pool, new ScriptedProbe(now, ""));
        try (HealthMonitor started = m.start()) {
            await().atMost(Duration.ofSeconds(5)).until(() -> started.status("route").rounds() >= 2);
        }
        assertThat(m.statuses()).containsKey("route");
    }
}

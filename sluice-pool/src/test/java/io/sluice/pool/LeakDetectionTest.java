package io.sluice.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.pool.FakeConnectionManager.Conn;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Leak detection's timers: one per lease while it is out, none once it ended, none after the pool closed. */
@Timeout(30)
class LeakDetectionTest {

    private final FakeConnectionManager manager = new FakeConnectionManager();
    private final ManualTicker ticker = new ManualTicker();
    private final ScheduledThreadPoolExecutor scheduler = (ScheduledThreadPoolExecutor) PoolScheduler.newScheduler("leak-test");

    @AfterEach
    void tearDown() {
        scheduler.shutdownNow();
    }

    private Pool<Conn> pool(PoolConfig.Builder config) {
        return Pool.builder(manager).name("leaks").ticker(ticker).scheduler(scheduler).periodicHousekeeping(false)
                .config(config.leakDetectionThreshold(Duration.ofHours(1)).build()).build();
    }

    private static PoolConfig.Builder cfg() {
        return PoolConfig.builder().maxConnections(2).minIdle(0).validationBypassWindow(Duration.ZERO);
    }

    @Test
    void endedLeasesLeaveNoLeakTimerInTheSchedulersQueue() {
        Pool<Conn> p = pool(cfg());
        for (int i = 0; i < 10_000; i++) {
            p.acquire().join().close();
        }
        assertThat(scheduler.getQueue().size()).as("tasks queued after 10 000 ended leases").isLessThan(10);
        Lease<Conn> held = p.acquire().join();
        assertThat(scheduler.getQueue()).as("the held lease's timer").hasSizeGreaterThanOrEqualTo(1);
        held.close();
        p.close();
        assertThat(scheduler.getQueue()).isEmpty();
    }

    @Test
    void aCheckoutWhoseValidationEndsAfterCloseGetsNoLeaseAndSchedulesNothing() {
        manager.holdValidations = true;
        Pool<Conn> p = pool(cfg().validationBypassWindow(Duration.ofMillis(500)));
        p.acquire().join().close();
        ticker.advance(Duration.ofSeconds(1));
        CompletableFuture<Lease<Conn>> f = p.acquire();
        assertThat(f).isNotDone();
        p.close();
        manager.heldValidations.poll().complete(null);
        assertThatThrownBy(f::join).cause().isInstanceOf(PoolClosedException.class);
        assertThat(scheduler.getQueue()).as("nothing scheduled after close").isEmpty();
        assertThat(manager.openNow.get()).isZero();
    }
}

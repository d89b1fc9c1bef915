package io.sluice.pool;

import io.sluice.pool.FakeManagerForStress.Conn;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.ThreadIdGen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Lincheck 3.7 model checking of acquire/tryAcquire/release/invalidate on a pool of two
 * exclusive connections: pre-warmed with minIdle 2, connects complete synchronously,
 * validation off, timers inert ({@link LincheckInertScheduler}), completions inline.
 *
 * <p><b>What it proves:</b> for the generated 2-thread scenarios of 2 operations each
 * (8 x 150 explored interleavings, switching at every shared-memory access the model
 * checker instruments), every result is linearizable against a sequential model with two
 * slots: a slot is never handed to two holders, a free slot is never refused once both
 * releases are linearized before it, and invalidating a lease (which closes the connection
 * and synchronously reconnects via replenish) never loses a slot. "acquireNow" covers
 * the queueing path: an acquire that has to wait is cancelled, which must give its place
 * back without leaking a slot.
 *
 * <p><b>What it does not prove:</b> anything timer-driven (timeouts, connect retries,
 * housekeeping), asynchronous connects and validation, multiplexed capacity, resize or
 * close; larger scenarios (3+ threads, longer sequences) are too slow under the model
 * checker with this code (HdrHistogram and ConcurrentLinkedQueue internals are
 * instrumented too), and the accounting (stats) is not validated here because
 * {@code stats()} takes an HdrHistogram snapshot that makes each invocation very slow.
 * The stress and repeat-race tests in {@link PoolStressTest} cover those paths.
 */
@Param(name = "tid", gen = ThreadIdGen.class)
public class PoolLincheckTest {

    private final Pool<Conn> pool;
    private final ArrayDeque<Lease<Conn>>[] held;

    @SuppressWarnings("unchecked")
    public PoolLincheckTest() {
        FakeManagerForStress m = new FakeManagerForStress(7);
        m.asyncConnectPercent = 0;
        m.asyncValidatePercent = 0;
        pool = Pool.builder(m)
                .name("lincheck")
                .config(PoolConfig.builder().maxConnections(2).minIdle(2).maxConnecting(1)
                        .validationBypassWindow(Duration.ZERO).build())
                .ticker(() -> 0L)
                .scheduler(new LincheckInertScheduler())
                .completionExecutor(Runnable::run)
                .periodicHousekeeping(false)
                .build();
        held = new ArrayDeque[4];
        for (int i = 0; i < held.length; i++) {
            held[i] = new ArrayDeque<>();
        }
    }

    @Operation
    public boolean tryAcquire(@Param(name = "tid") int tid) {
        Lease<Conn> l = pool.tryAcquire();
        if (l == null) {
            return false;
        }
        held[tid].push(l);
        return true;
    }

    @Operation
    public boolean release(@Param(name = "tid") int tid) {
        Lease<Conn> l = held[tid].poll();
        if (l == null) {
            return false;
        }
        l.close();
        return true;
    }

    @Operation
    public boolean acquireNow(@Param(name = "tid") int tid) {
        CompletableFuture<Lease<Conn>> f = pool.acquire();
        if (!f.isDone() && f.cancel(false)) {
            return false;
        }
        held[tid].push(f.join());
        return true;
    }

    @Operation
    public boolean invalidate(@Param(name = "tid") int tid) {
        Lease<Conn> l = held[tid].poll();
        if (l == null) {
            return false;
        }
        l.invalidate();
        return true;
    }

    @Test
    @Timeout(300)
    void modelCheck() {
        new ModelCheckingOptions()
                .iterations(8)
                .invocationsPerIteration(150)
                .threads(2)
                .actorsPerThread(2)
                .actorsBefore(0)
                .actorsAfter(0)
                .sequentialSpecification(Spec.class)
                .check(PoolLincheckTest.class);
    }

    /** Sequential model: two exclusive slots. */
    public static class Spec {
        private final int[] held = new int[4];
        private int total;

        public boolean tryAcquire(int tid) {
            if (total >= 2) {
                return false;
            }
            total++;
            held[tid]++;
            return true;
        }

        public boolean acquireNow(int tid) {
            return tryAcquire(tid);
        }

        public boolean invalidate(int tid) {
            return release(tid);
        }

        public boolean release(int tid) {
            if (held[tid] == 0) {
                return false;
            }
            held[tid]--;
            total--;
            return true;
        }
    }
}

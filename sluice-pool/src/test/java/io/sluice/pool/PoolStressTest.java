package io.sluice.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.sluice.pool.FakeManagerForStress.Conn;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Adversarial randomized stress of {@link Pool}: several threads run a seeded random mix
 * of acquire, tryAcquire, release, invalidate, cancel/complete of a waiting acquire,
 * resize, capacity and health changes of multiplexed fake connections, housekeeping and
 * idle eviction, against a fake manager that connects and validates synchronously or on
 * other threads and sometimes fails validation.
 *
 * <p>Every {@code CHECK_EVERY} operations all workers meet at a barrier; one of them
 * waits until the pool is quiescent (no asynchronous connect, validation or completion in
 * flight, nothing connecting) and checks the accounting against what the workers hold.
 * Every few checkpoints all leases are released and every worker must get a lease within
 * a bound far below connectionTimeout (a lost wake-up shows up here). At the end
 * everything is released, the pool closed, and every connection must have been closed
 * exactly once.
 *
 * <p>The random choices are seeded per worker, so the sequence of operations is
 * reproducible; the interleaving is not, which is the point of a stress test.
 */
class PoolStressTest {

    private static final int THREADS = 4;
    private static final int MAX_LIMIT = 6;

    /** One run's settings. */
    record Settings(long seed, int opsPerThread, int checkEvery, boolean concurrentResize, boolean strictLimits) {
    }

    @Test
    @Timeout(120)
    void millionRandomOperationsKeepTheAccountingExact() throws Exception {
        // Resizes race with everything else; the physical limit is only checked against the largest limit used.
        StressRun run = new StressRun(new Settings(0x5EED_0001L, 260_000, 4_000, true, false));
        run.execute();
    }

    @Test
    @Timeout(120)
    void randomOperationsNeverExceedMaxConnectionsPhysically() throws Exception {
        // Resizes happen only at quiescent checkpoints, so the limit in force is exact:
        // the manager must never hold more than maxConnections open connections at once.
        StressRun run = new StressRun(new Settings(0x5EED_0002L, 100_000, 4_000, false, true));
        run.execute();
    }

    // ------------------------------------------------------------------ the run

    static final class StressRun {
        final Settings settings;
        final FakeManagerForStress manager;
        final StressTrackedExecutor completions;
        final ScheduledExecutorService scheduler;
        final Pool<Conn> pool;
        final Worker[] workers = new Worker[THREADS];
        final CyclicBarrier barrier = new CyclicBarrier(THREADS);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final AtomicLong issued = new AtomicLong();
        final AtomicLong completedCallbacks = new AtomicLong();
        final AtomicLong leasesObtained = new AtomicLong();
        final AtomicLong totalOps = new AtomicLong();
        final AtomicInteger checkpoints = new AtomicInteger();
        final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        final AtomicLong unexpectedTimeouts = new AtomicLong();

        StressRun(Settings settings) {
            this.settings = settings;
            this.manager = new FakeManagerForStress(settings.seed());
            manager.maxNewCapacity = 3;
            manager.asyncConnectPercent = 50;
            manager.asyncValidatePercent = 50;
            manager.validateFailPercent = 15;
            this.completions = new StressTrackedExecutor("stress");
            this.scheduler = StressTrackedExecutor.scheduler("stress");
            PoolConfig config = PoolConfig.builder()
                    .maxConnections(3)
                    .minIdle(1)
                    .maxPending(100_000)
                    .connectionTimeout(Duration.ofSeconds(60))
                    .validationTimeout(Duration.ofSeconds(60))
                    .validationBypassWindow(Duration.ofNanos(200_000))
                    .idleTimeout(Duration.ofMillis(2))
                    .maxLifetime(Duration.ofMillis(50))
                    .connectBackoff(Duration.ofMillis(1))
                    .maxConnectBackoff(Duration.ofMillis(2))
                    .build();
            this.pool = Pool.builder(manager)
                    .name("stress")
                    .config(config)
                    .ticker(Ticker.system())
                    .scheduler(scheduler)
                    .completionExecutor(completions)
                    .periodicHousekeeping(false)
                    .build();
            if (settings.strictLimits()) {
                manager.limit = pool::maxConnections;
            } else {
                manager.limit = () -> MAX_LIMIT;
            }
        }

        void execute() throws Exception {
            long t0 = System.nanoTime();
            Thread[] threads = new Thread[THREADS];
            for (int i = 0; i < THREADS; i++) {
                workers[i] = new Worker(this, i, new SplittableRandom(settings.seed() * 31 + i));
                Worker w = workers[i];
                threads[i] = new Thread(w::runSafely, "stress-worker-" + i);
            }
            for (Thread t : threads) {
                t.start();
            }
            for (Thread t : threads) {
                t.join(TimeUnit.SECONDS.toMillis(110));
            }
            try {
                if (failure.get() != null) {
                    throw new AssertionError("stress run failed after " + totalOps.get() + " ops, "
                            + checkpoints.get() + " checkpoints: " + failure.get() + "\nproblems: " + problems
                            + "\nviolations: " + manager.violations + "\nstats: " + pool.stats(), failure.get());
                }
                finalChecks();
            } finally {
                pool.close();
                scheduler.shutdownNow();
                completions.shutdown();
                manager.shutdown();
            }
            System.out.printf("stress %s: %d ops, %d checkpoints, %d connects, %d validations, %d deferred completions,"
                            + " peak open %d, in %d ms%n", settings, totalOps.get(), checkpoints.get(),
                    manager.connectCalls.get(), manager.validateCalls.get(), completions.executed.get(),
                    manager.peakOpen.get(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        }

        void finalChecks() throws Exception {
            assertThat(totalOps.get()).isGreaterThanOrEqualTo((long) THREADS * settings.opsPerThread());
            for (Worker w : workers) {
                assertThat(w.held).as("worker %d still holds leases", w.index).isEmpty();
                assertThat(w.waiting).as("worker %d still waits", w.index).isEmpty();
            }
            quiesce();
            PoolStats s = pool.stats();
            assertThat(s.leasesOut()).as("leasesOut after releasing everything: %s", s).isZero();
            assertThat(s.pending()).as("pending after releasing everything: %s", s).isZero();
            assertThat(s.draining()).as("draining with no lease out: %s", s).isZero();
            assertThat(manager.openNow.get()).as("physically open vs pool's open: %s", s).isEqualTo(s.open());
            assertThat(s.open() + s.connecting()).as("open+connecting vs limit: %s", s)
                    .isLessThanOrEqualTo(s.maxConnections());
            assertThat(problems).as("problems seen by workers").isEmpty();
            pool.close();
            awaitCondition("connections closed after pool.close()", () -> manager.openNow.get() == 0
                    && manager.inFlight.get() == 0 && completions.inFlight.get() == 0);
            assertThat(manager.notClosedExactlyOnce()).as("connections not closed exactly once").isEmpty();
            assertThat(completedCallbacks.get()).as("acquire futures completed (issued=%d)", issued.get())
                    .isEqualTo(issued.get());
            assertThat(manager.violations).as("manager-side violations").isEmpty();
            assertThat(unexpectedTimeouts.get()).as("acquire timeouts (connectionTimeout is 60 s)").isZero();
        }

        /** Waits until nothing asynchronous is in flight and nothing is connecting, stably. */
        void quiesce() throws InterruptedException {
            awaitCondition("quiescence", () -> manager.inFlight.get() == 0 && completions.inFlight.get() == 0
                    && pool.stats().connecting() == 0);
        }

        void awaitCondition(String what, java.util.function.BooleanSupplier cond) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            int stable = 0;
            while (stable < 3) {
                if (cond.getAsBoolean()) {
                    stable++;
                } else {
                    stable = 0;
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("no " + what + " within 10 s: " + pool.stats() + ", fake in flight "
                            + manager.inFlight.get() + ", completions in flight " + completions.inFlight.get());
                }
                Thread.sleep(0, 200_000);
            }
        }

        /** Run by one worker while all others wait at the barrier. */
        void checkQuiescent(int checkpoint) throws InterruptedException {
            quiesce();
            PoolStats s = pool.stats();
            int held = 0;
            int doneWithLease = 0;
            int notDone = 0;
            for (Worker w : workers) {
                held += w.held.size();
                for (CompletableFuture<Lease<Conn>> f : w.waiting) {
                    if (!f.isDone()) {
                        notDone++;
                    } else if (!f.isCompletedExceptionally()) {
                        doneWithLease++;
                    }
                }
            }
            String ctx = "checkpoint " + checkpoint + ": " + s;
            check(s.open() == s.idle() + s.inUse() + s.draining(), "open != idle+inUse+draining; " + ctx);
            check(s.leasesOut() == held + doneWithLease,
                    "leasesOut " + s.leasesOut() + " != held " + held + " + delivered-unharvested " + doneWithLease + "; " + ctx);
            check(s.pending() == notDone, "pending " + s.pending() + " != futures still waiting " + notDone + "; " + ctx);
            check(manager.openNow.get() <= s.open(),
                    "manager has " + manager.openNow.get() + " open connections, pool knows " + s.open() + "; " + ctx);
            for (Conn c : manager.opened) {
                int h = c.heldByTest.get();
                check(h <= c.maxCapacityEver.get(), c + " held by " + h + " leases, capacity never above "
                        + c.maxCapacityEver.get() + "; " + ctx);
            }
            if (s.pending() > 0) {
                // Nobody may wait while a connection is idle or a connection could still be opened.
                check(s.idle() == 0, "waiters while a connection is idle (lost wake-up); " + ctx);
                check(s.open() + s.connecting() >= s.maxConnections(),
                        "waiters while below maxConnections and nothing connecting (lost wake-up); " + ctx);
            }
            if (settings.strictLimits()) {
                check(s.open() - s.draining() + s.connecting() <= s.maxConnections(),
                        "non-draining connections exceed maxConnections after settling; " + ctx);
            }
        }

        void check(boolean ok, String message) {
            if (!ok) {
                problems.add(message);
                throw new AssertionError(message);
            }
        }
    }

    // ------------------------------------------------------------------ one worker

    static final class Worker {
        final StressRun run;
        final int index;
        final SplittableRandom rnd;
        final List<Lease<Conn>> held = new ArrayList<>();
        final List<CompletableFuture<Lease<Conn>>> waiting = new ArrayList<>();

        Worker(StressRun run, int index, SplittableRandom rnd) {
            this.run = run;
            this.index = index;
            this.rnd = rnd;
        }

        void runSafely() {
            try {
                runOps();
            } catch (BrokenBarrierException e) {
                // another worker failed and broke the barrier
            } catch (Throwable t) {
                run.failure.compareAndSet(null, t);
                run.barrier.reset();
            }
        }

        void runOps() throws Exception {
            Settings st = run.settings;
            int checkpoint = 0;
            for (int op = 1; op <= st.opsPerThread(); op++) {
                oneOp();
                run.totalOps.incrementAndGet();
                if (op % st.checkEvery() == 0) {
                    checkpoint++;
                    checkpoint(checkpoint);
                }
            }
            // final: give everything back
            barrierAwait();
            giveBackEverything();
            barrierAwait();
        }

        void barrierAwait() throws Exception {
            run.barrier.await(60, TimeUnit.SECONDS);
        }

        void checkpoint(int n) throws Exception {
            barrierAwait();
            if (index == 0) {
                run.checkpoints.incrementAndGet();
                run.checkQuiescent(n);
            }
            barrierAwait();
            if (n % 4 == 0) {
                // Liveness: everything back, then each worker must be served well before any timeout.
                giveBackEverything();
                barrierAwait();
                if (index == 0) {
                    run.quiesce();
                    PoolStats s = run.pool.stats();
                    run.check(s.leasesOut() == 0 && s.pending() == 0 && s.draining() == 0,
                            "after releasing everything at checkpoint " + n + ": " + s);
                    run.check(run.manager.openNow.get() == s.open(),
                            "manager has " + run.manager.openNow.get() + " open, pool " + s.open() + " at checkpoint " + n);
                    if (!run.settings.concurrentResize()) {
                        run.pool.setMaxConnections(1 + rnd.nextInt(MAX_LIMIT));
                    }
                }
                barrierAwait();
                for (int k = 0; k < 3; k++) {
                    Lease<Conn> l = awaitLease(run.pool.acquire(), "liveness acquire at checkpoint " + n);
                    if (l != null) {
                        l.close();
                    }
                }
                barrierAwait();
            }
        }

        Lease<Conn> awaitLease(CompletableFuture<Lease<Conn>> f, String what) throws Exception {
            track(f);
            try {
                Lease<Conn> l = f.get(10, TimeUnit.SECONDS);
                run.leasesObtained.incrementAndGet();
                return l;
            } catch (TimeoutException e) {
                throw new AssertionError(what + " not served within 10 s (lost wake-up?): " + run.pool.stats());
            } catch (ExecutionException e) {
                throw new AssertionError(what + " failed", e.getCause());
            }
        }

        void giveBackEverything() {
            for (CompletableFuture<Lease<Conn>> f : new ArrayList<>(waiting)) {
                if (!f.cancel(false)) {
                    harvest(f);
                }
                waiting.remove(f);
            }
            while (!held.isEmpty()) {
                release(held.size() - 1, false);
            }
        }

        void track(CompletableFuture<Lease<Conn>> f) {
            run.issued.incrementAndGet();
            f.whenComplete((l, e) -> run.completedCallbacks.incrementAndGet());
        }

        void take(Lease<Conn> l) {
            Conn c = l.connection();
            int n = c.heldByTest.incrementAndGet();
            if (n > c.maxCapacityEver.get()) {
                run.problems.add("lease handed out beyond capacity: " + c + " now held " + n + " times");
            }
            if (l.isClosed()) {
                run.problems.add("a closed lease was handed out: " + l);
            }
            run.leasesObtained.incrementAndGet();
            held.add(l);
        }

        void release(int i, boolean invalidate) {
            Lease<Conn> l = held.remove(i);
            l.connection().heldByTest.decrementAndGet();
            if (invalidate) {
                l.invalidate();
            } else {
                l.close();
            }
            if (rnd.nextInt(50) == 0) {
                l.close(); // a second close must be harmless
            }
        }

        /** Moves a completed future's outcome into the worker's state; answers whether it was done. */
        boolean harvest(CompletableFuture<Lease<Conn>> f) {
            if (!f.isDone()) {
                return false;
            }
            try {
                take(f.join());
            } catch (CancellationException e) {
                // ours
            } catch (CompletionException e) {
                Throwable c = e.getCause();
                if (c instanceof CallerGaveUp) {
                    return true;
                }
                if (c instanceof PoolTimeoutException) {
                    run.unexpectedTimeouts.incrementAndGet();
                }
                run.problems.add("acquire failed unexpectedly: " + c);
            }
            return true;
        }

        void oneOp() {
            int r = rnd.nextInt(1000);
            Pool<Conn> pool = run.pool;
            if (r < 250) {
                CompletableFuture<Lease<Conn>> f = pool.acquire();
                track(f);
                if (!harvest(f)) {
                    waiting.add(f);
                }
            } else if (r < 380) {
                Lease<Conn> l = pool.tryAcquire();
                if (l != null) {
                    take(l);
                }
            } else if (r < 600) {
                if (!held.isEmpty()) {
                    release(rnd.nextInt(held.size()), false);
                }
            } else if (r < 630) {
                if (!held.isEmpty()) {
                    release(rnd.nextInt(held.size()), true);
                }
            } else if (r < 700) {
                if (!waiting.isEmpty()) {
                    CompletableFuture<Lease<Conn>> f = waiting.remove(rnd.nextInt(waiting.size()));
                    if (!f.cancel(false)) {
                        harvest(f);
                    }
                }
            } else if (r < 720) {
                if (!waiting.isEmpty()) {
                    CompletableFuture<Lease<Conn>> f = waiting.remove(rnd.nextInt(waiting.size()));
                    if (!f.completeExceptionally(new CallerGaveUp())) {
                        harvest(f);
                    }
                }
            } else if (r < 850) {
                for (int i = waiting.size() - 1; i >= 0; i--) {
                    if (harvest(waiting.get(i))) {
                        waiting.remove(i);
                    }
                }
            } else if (r < 870) {
                List<Conn> open = run.manager.openConnections();
                if (!open.isEmpty()) {
                    Conn c = open.get(rnd.nextInt(open.size()));
                    c.setCapacity(1 + rnd.nextInt(4));
                    pool.connectionChanged(c);
                }
            } else if (r < 875) {
                if (!held.isEmpty()) {
                    Conn c = held.get(rnd.nextInt(held.size())).connection();
                    c.broken = true;
                    pool.connectionChanged(c);
                }
            } else if (r < 885) {
                if (run.settings.concurrentResize()) {
                    pool.setMaxConnections(1 + rnd.nextInt(MAX_LIMIT));
                }
            } else if (r < 888) {
                pool.runHousekeeping();
            } else if (r < 889) {
                pool.closeIdleConnections();
            } else {
                // think time / no-op keeps the mix from being pure contention
                Thread.onSpinWait();
            }
        }
    }

    /** The caller completing its own waiting future, as orTimeout would. */
    static final class CallerGaveUp extends RuntimeException {
        CallerGaveUp() {
            super("caller gave up", null, false, false);
        }
    }
}

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
import org.junit.jupiter.api.Disabled;
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
    record Settings(long seed, int opsPerThread, int checkEvery, boolean concurrentResize, boolean strictLimits,
            int validateFailPercent) {
    }

    /**
     * The full mix except failing validations (see D4) with resizes racing everything;
     * the limits are checked leniently (see D1, D2): at most one connection above the
     * largest limit used, physically, and no check of the settled limit.
     */
    @Test
    @Timeout(120)
    void millionRandomOperationsKeepTheAccountingExact() throws Exception {
        new StressRun(new Settings(0x5EED_0001L, 260_000, 4_000, true, false, 0)).execute();
    }

    /** The full mix, including validations that fail (15 %) while callers cancel. */
    @Test
    @Timeout(120)

    void millionRandomOperationsWithFailingValidationsKeepTheAccountingExact() throws Exception {
        new StressRun(new Settings(0x5EED_0003L, 260_000, 4_000, true, false, 15)).execute();
    }

    /**
     * Resizes happen only at quiescent checkpoints, so the limit in force is exact: the
     * manager must never hold more than maxConnections open connections at once, and
     * after settling no more than maxConnections non-draining ones.
     */
    @Test
    @Timeout(120)

    void randomOperationsNeverExceedMaxConnectionsPhysically() throws Exception {
        new StressRun(new Settings(0x5EED_0002L, 150_000, 4_000, false, true, 0)).execute();
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
            manager.validateFailPercent = settings.validateFailPercent();
            this.completions = new StressTrackedExecutor("stress");
            this.scheduler = StressTrackedExecutor.scheduler("stress");
            PoolConfig config = PoolConfig.builder()
                    .maxConnections(3)
                    .minIdle(1)
                    .maxConnecting(1 + (int) Math.floorMod(settings.seed(), 3L)) // 1 and 2 hold connects back
                    .maxPending(100_000)
                    .connectionTimeout(Duration.ofSeconds(60))
                    .validationTimeout(Duration.ofSeconds(60))
                    .validationBypassWindow(Duration.ofNanos(20_000))
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
                manager.limit = () -> MAX_LIMIT + 1; // lenient by one: defect D1
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
            System.out.println("stats before final release: " + pool.stats());
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
            if (settings.strictLimits()) {
                assertThat(s.open() + s.connecting()).as("open+connecting vs limit: %s", s)
                        .isLessThanOrEqualTo(s.maxConnections());
            }
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
            if (settings.strictLimits()) { // defect D2 breaks this when resizes race with connects
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
                if (waiting.size() >= 6) {
                    return;
                }
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
                    run.manager.changed(c);
                }
            } else if (r < 875) {
                if (!held.isEmpty()) {
                    Conn c = held.get(rnd.nextInt(held.size())).connection();
                    c.broken = true;
                    run.manager.changed(c);
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
    // ------------------------------------------------------------------ targeted races and reproductions

    private static Pool<Conn> smallPool(FakeManagerForStress m, int max, Duration connectionTimeout, Ticker ticker,
            Duration bypass, ScheduledExecutorService scheduler, java.util.concurrent.Executor completion) {
        Pool.Builder<Conn> b = Pool.builder(m)
                .name("small")
                .config(PoolConfig.builder()
                        .maxConnections(max)
                        .minIdle(0)
                        .connectionTimeout(connectionTimeout)
                        .validationBypassWindow(bypass)
                        .build())
                .ticker(ticker)
                .completionExecutor(completion)
                .periodicHousekeeping(false);
        if (scheduler != null) {
            b.scheduler(scheduler);
        }
        return b.build();
    }

    private static FakeManagerForStress syncManager(long seed) {
        FakeManagerForStress m = new FakeManagerForStress(seed);
        m.asyncConnectPercent = 0;
        m.asyncValidatePercent = 0;
        return m;
    }

    /**
     * Repeat-race: a waiter's timeout and another waiter's cancellation race with the
     * release that could serve them. Whatever wins, the accounting must be exact: no
     * slot lost, no waiter counted twice, the one connection stays reusable.
     */
    @Test
    @Timeout(60)
    void timeoutAndCancellationRacingWithReleaseLeaveTheAccountingExact() throws Exception {
        FakeManagerForStress m = syncManager(11);
        ScheduledExecutorService sched = StressTrackedExecutor.scheduler("race");
        StressTrackedExecutor exec = new StressTrackedExecutor("race");
        Pool<Conn> pool = smallPool(m, 1, Duration.ofMillis(1), Ticker.system(), Duration.ZERO, sched, exec);
        int trials = 3_000;
        int served = 0;
        int timedOut = 0;
        int cancelledOk = 0;
        try {
            // The first acquire connects; with a 1 ms connectionTimeout a cold JVM may time it out: retry.
            for (int i = 0; pool.stats().open() == 0 && i < 100; i++) {
                pool.acquire().handle((l, e) -> { if (l != null) { l.close(); } return null; }).get(5, TimeUnit.SECONDS);
            }
            for (int t = 0; t < trials; t++) {
                Lease<Conn> held = pool.tryAcquire();
                assertThat(held).as("trial %d: the idle connection: %s", t, pool.stats()).isNotNull();
                CompletableFuture<Lease<Conn>> timing = pool.acquire();   // times out after 1 ms unless served
                CompletableFuture<Lease<Conn>> cancelling = pool.acquire();
                CyclicBarrier start = new CyclicBarrier(2);
                Thread releaser = new Thread(() -> {
                    await(start);
                    if ((System.nanoTime() & 1) == 0) {
                        Thread.onSpinWait();
                    }
                    held.close();
                });
                releaser.start();
                await(start);
                LockSupportSpin.spinMicros(t % 400);
                boolean cancelled = cancelling.cancel(false);
                releaser.join();
                for (CompletableFuture<Lease<Conn>> f : List.of(timing, cancelling)) {
                    try {
                        Lease<Conn> l = f.get(5, TimeUnit.SECONDS);
                        served++;
                        l.close();
                    } catch (ExecutionException e) {
                        assertThat(e.getCause()).isInstanceOf(PoolTimeoutException.class);
                        timedOut++;
                    } catch (CancellationException e) {
                        assertThat(cancelled).isTrue();
                        cancelledOk++;
                    }
                }
                awaitQuiet(exec, m);
                PoolStats s = pool.stats();
                assertThat(s.leasesOut()).as("trial %d: %s", t, s).isZero();
                assertThat(s.pending()).as("trial %d: %s", t, s).isZero();
                assertThat(s.open()).as("trial %d: %s", t, s).isEqualTo(1);
                assertThat(s.idle()).as("trial %d: %s", t, s).isEqualTo(1);
                assertThat(m.openNow.get()).as("trial %d", t).isEqualTo(1);
            }
        } finally {
            pool.close();
            sched.shutdownNow();
            exec.shutdown();
            m.shutdown();
        }
        System.out.printf("timeout/cancel race: %d trials, %d served, %d timed out, %d cancelled%n",
                trials, served, timedOut, cancelledOk);
        assertThat(m.violations).isEmpty();
        assertThat(m.notClosedExactlyOnce()).isEmpty();
        assertThat(served + timedOut + cancelledOk).isEqualTo(2 * trials);
    }

    /**
     * Defect D1 (physical limit): {@code Pool.remove} decrements {@code allocated} before it
     * closes the connection, so another thread can reserve and connect in between, and the
     * manager briefly holds maxConnections + 1 connections. Here a lease on a broken
     * connection is released (which removes the entry) while another thread keeps running
     * the drain loop for a queued waiter; with maxConnections 1, a connect() while the old
     * connection is still open is a violation.
     */

    @Test
    @Timeout(60)
    void releasingABrokenConnectionNeverLetsAReplacementOpenBeforeItIsClosed() throws Exception {
        FakeManagerForStress m = syncManager(12);
        ScheduledExecutorService sched = StressTrackedExecutor.scheduler("d1");
        StressTrackedExecutor exec = new StressTrackedExecutor("d1");
        Pool<Conn> pool = smallPool(m, 1, Duration.ofSeconds(30), Ticker.system(), Duration.ZERO, sched, exec);
        m.limit = () -> 1;
        Conn nobody = new Conn(-1, 1);
        int trials = 5_000;
        try {
            Lease<Conn> held = pool.acquire().get(5, TimeUnit.SECONDS);
            for (int t = 0; t < trials && m.violations.isEmpty(); t++) {
                held.connection().broken = true;
                CompletableFuture<Lease<Conn>> waiter = pool.acquire();
                CyclicBarrier start = new CyclicBarrier(2);
                Lease<Conn> toRelease = held;
                Thread releaser = new Thread(() -> {
                    await(start);
                    toRelease.close();
                });
                releaser.start();
                await(start);
                while (!waiter.isDone()) {
                    m.changed(nobody); // runs the drain loop, as any concurrent event would
                }
                releaser.join();
                held = waiter.get(5, TimeUnit.SECONDS);
            }
            held.close();
        } finally {
            pool.close();
            sched.shutdownNow();
            exec.shutdown();
            m.shutdown();
        }
        assertThat(m.violations).as("connect() while maxConnections connections were still open").isEmpty();
    }

    /**
     * Defect D2 (shrink vs connects in flight): {@code shrinkTo} can only drain OPEN
     * entries; connects in flight complete into OPEN entries that are never drained, so
     * after settling the pool keeps more connections than maxConnections.
     */

    @Test
    @Timeout(30)
    void shrinkWhileConnectsAreInFlightSettlesWithinTheNewLimit() throws Exception {
        FakeManagerForStress m = syncManager(13);
        m.manualConnects = true;
        ScheduledExecutorService sched = StressTrackedExecutor.scheduler("d2");
        StressTrackedExecutor exec = new StressTrackedExecutor("d2");
        Pool<Conn> pool = smallPool(m, 3, Duration.ofSeconds(30), Ticker.system(), Duration.ZERO, sched, exec);
        try {
            List<CompletableFuture<Lease<Conn>>> fs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                fs.add(pool.acquire());
            }
            assertThat(m.manualConnectQueue).hasSize(3);
            pool.setMaxConnections(1);
            CompletableFuture<Conn> c;
            while ((c = m.manualConnectQueue.poll()) != null) {
                c.complete(m.open());
            }
            for (CompletableFuture<Lease<Conn>> f : fs) {
                f.get(5, TimeUnit.SECONDS).close();
            }
            awaitQuiet(exec, m);
            PoolStats s = pool.stats();
            assertThat(s.open() - s.draining() + s.connecting())
                    .as("connections kept after shrinking to 1 and releasing everything: %s", s)
                    .isLessThanOrEqualTo(1);
            assertThat(m.openNow.get()).as("physically open after settling").isLessThanOrEqualTo(1);
        } finally {
            pool.close();
            sched.shutdownNow();
            exec.shutdown();
            m.shutdown();
        }
    }

    /**
     * Defect D3a (lost wake-up): {@code tryAcquire} retires a broken idle connection inside
     * {@code findSlot} and frees its place in maxConnections without running the drain
     * loop. A waiter that queued while the entry was still counted (its own drain could not
     * reserve a connect) is then never served until some unrelated event.
     * The interleaving is forced by holding the entry table's lock (white-box), so the
     * retiring thread stops inside {@code remove} after CLOSED but before
     * {@code allocated.decrementAndGet()}.
     */

    @Test
    @Timeout(30)
    void tryAcquireRetiringABrokenConnectionWakesAQueuedWaiter() throws Exception {
        lostWakeUp(true);
    }

    /** Defect D3b (lost wake-up): the same with {@code closeIdleConnections}, which never runs the drain loop. */

    @Test
    @Timeout(30)
    void closeIdleConnectionsWakesAQueuedWaiter() throws Exception {
        lostWakeUp(false);
    }

    private static void lostWakeUp(boolean viaTryAcquire) throws Exception {
        FakeManagerForStress m = syncManager(14);
        ScheduledExecutorService sched = StressTrackedExecutor.scheduler("d3");
        StressTrackedExecutor exec = new StressTrackedExecutor("d3");
        Pool<Conn> pool = smallPool(m, 1, Duration.ofSeconds(20), Ticker.system(), Duration.ZERO, sched, exec);
        java.util.concurrent.locks.ReentrantLock listLock = pool.table.lock; // the entry table's copy-on-write lock
        Thread other = null;
        try {
            Lease<Conn> l = pool.acquire().get(5, TimeUnit.SECONDS);
            Conn c = l.connection();
            l.close();
            listLock.lock();
            try {
                if (viaTryAcquire) {
                    c.broken = true;
                    other = new Thread(pool::tryAcquire);
                } else {
                    other = new Thread(pool::closeIdleConnections);
                }
                other.start();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (!listLock.hasQueuedThreads()) {
                    assertThat(System.nanoTime()).as("other thread reached remove()").isLessThan(deadline);
                    Thread.onSpinWait();
                }
                // The entry is CLOSED but still counted in maxConnections: this waiter cannot connect yet.
                CompletableFuture<Lease<Conn>> waiter = pool.acquire();
                assertThat(waiter).isNotDone();
                listLock.unlock();
                other.join(5_000);
                // A connection may be opened now; the waiter must get it without any other event.
                Lease<Conn> got = waiter.get(3, TimeUnit.SECONDS);
                got.close();
            } finally {
                if (listLock.isHeldByCurrentThread()) {
                    listLock.unlock();
                }
            }
        } catch (TimeoutException e) {
            throw new AssertionError("lost wake-up: the waiter was not served although a connection could be opened: "
                    + pool.stats());
        } finally {
            pool.close();
            sched.shutdownNow();
            exec.shutdown();
            m.shutdown();
        }
    }

    /**
     * Defect D4 (zombie waiter): a caller cancels an acquire while the chosen idle
     * connection is being validated (the waiter is FULFILLED, so cancel() only completes
     * the future); the validation then fails, {@code tryRequeue} succeeds and the already
     * cancelled waiter is queued again: pending counts a caller that is gone, and a
     * connection is opened for it.
     */

    @Test
    @Timeout(30)
    void cancellingDuringAFailedValidationLeavesNoGhostWaiter() throws Exception {
        FakeManagerForStress m = syncManager(15);
        m.manualValidations = true;
        AtomicLong now = new AtomicLong(1_000_000_000L);
        ScheduledExecutorService sched = StressTrackedExecutor.scheduler("d4");
        StressTrackedExecutor exec = new StressTrackedExecutor("d4");
        Pool<Conn> pool = smallPool(m, 2, Duration.ofSeconds(30), now::get, Duration.ofMillis(500), sched, exec);
        try {
            pool.acquire().get(5, TimeUnit.SECONDS).close();
            assertThat(m.connectCalls.get()).isEqualTo(1);
            now.addAndGet(TimeUnit.SECONDS.toNanos(1)); // idle past the bypass window: next acquire validates
            CompletableFuture<Lease<Conn>> f = pool.acquire();
            assertThat(m.manualValidationQueue).hasSize(1);
            assertThat(f.cancel(false)).isTrue();
            m.manualValidationQueue.poll().completeExceptionally(new IllegalStateException("ping failed"));
            awaitQuiet(exec, m);
            PoolStats s = pool.stats();
            assertThat(s.pending()).as("waiters after the only caller cancelled: %s", s).isZero();
            assertThat(m.connectCalls.get()).as("connects opened for a cancelled caller").isEqualTo(1);
        } finally {
            pool.close();
            sched.shutdownNow();
            exec.shutdown();
            m.shutdown();
        }
    }

    /**
     * Defect D5 (wedged drain loop): {@code findSlot} calls {@code manager.hasBroken}
     * unguarded (elsewhere the pool uses {@code brokenSafely}). When it throws inside
     * {@code drain()}, the work-in-progress counter is never decremented, so no later drain
     * runs: every waiter from then on waits until connectionTimeout, forever.
     */

    @Test
    @Timeout(30)
    void aThrowingHasBrokenDoesNotWedgeTheDrainLoop() throws Exception {
        FakeManagerForStress m = syncManager(16);
        ScheduledExecutorService sched = StressTrackedExecutor.scheduler("d5");
        StressTrackedExecutor exec = new StressTrackedExecutor("d5");
        Pool<Conn> pool = smallPool(m, 1, Duration.ofSeconds(20), Ticker.system(), Duration.ZERO, sched, exec);
        try {
            Lease<Conn> held = pool.acquire().get(5, TimeUnit.SECONDS);
            CompletableFuture<Lease<Conn>> waiter = pool.acquire();
            assertThat(waiter).isNotDone();
            m.hasBrokenThrows.set(1);
            try {
                m.changed(new Conn(-1, 1)); // runs drain(); findSlot's hasBroken throws in it
            } catch (RuntimeException expected) {
                // propagating the manager's bug to this caller is acceptable; wedging the pool is not
            }
            held.close();
            try {
                waiter.get(3, TimeUnit.SECONDS).close();
            } catch (TimeoutException e) {
                throw new AssertionError("the drain loop is wedged after hasBroken() threw once: " + pool.stats());
            }
        } finally {
            pool.close();
            sched.shutdownNow();
            exec.shutdown();
            m.shutdown();
        }
    }

    /**
     * Defect D6 (acquire racing close with the pool's own scheduler): acquire() passes its
     * {@code closed} check, close() shuts the owned scheduler down, then {@code enqueue}
     * has already counted and queued the waiter when {@code scheduler.schedule} throws
     * RejectedExecutionException: the caller gets that exception instead of a
     * PoolClosedException future, and pending stays 1 forever.
     */

    @Test
    @Timeout(120)
    void acquireRacingCloseFailsWithPoolClosedAndLeavesNothingQueued() throws Exception {
        int trials = 4_000;
        List<String> bad = new ArrayList<>();
        for (int t = 0; t < trials && bad.size() < 3; t++) {
            FakeManagerForStress m = syncManager(17);
            Pool<Conn> pool = smallPool(m, 1, Duration.ofSeconds(30), Ticker.system(), Duration.ZERO, null,
                    Runnable::run);
            Lease<Conn> held = pool.acquire().get(5, TimeUnit.SECONDS);
            CyclicBarrier start = new CyclicBarrier(2);
            AtomicReference<Object> outcome = new AtomicReference<>();
            Thread acquirer = new Thread(() -> {
                await(start);
                try {
                    outcome.set(pool.acquire());
                } catch (Throwable e) {
                    outcome.set(e);
                }
            });
            acquirer.start();
            await(start);
            LockSupportSpin.spinNanos((t % 64) * 150L);
            pool.close();
            acquirer.join();
            Object o = outcome.get();
            if (o instanceof Throwable e) {
                bad.add("trial " + t + ": acquire() threw " + e + "; " + pool.stats());
            } else {
                @SuppressWarnings("unchecked")
                CompletableFuture<Lease<Conn>> f = (CompletableFuture<Lease<Conn>>) o;
                try {
                    f.get(2, TimeUnit.SECONDS).close();
                    bad.add("trial " + t + ": acquire() got a lease from a closed pool");
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof PoolClosedException)) {
                        bad.add("trial " + t + ": failed with " + e.getCause());
                    }
                } catch (TimeoutException e) {
                    bad.add("trial " + t + ": future never completed; " + pool.stats());
                }
            }
            held.close();
            if (pool.stats().pending() != 0) {
                bad.add("trial " + t + ": pending " + pool.stats().pending() + " after close");
            }
            m.shutdown();
        }
        assertThat(bad).isEmpty();
    }

    /**
     * Defect D7 (statistics): closeIdleConnections records EVICTED as the close reason of
     * every entry, including leased ones it does not close; the first reason wins, so a
     * connection later invalidated is reported as EVICTED.
     */

    @Test
    @Timeout(30)
    void closeIdleConnectionsDoesNotMislabelLeasedConnections() throws Exception {
        FakeManagerForStress m = syncManager(18);
        ScheduledExecutorService sched = StressTrackedExecutor.scheduler("d7");
        Pool<Conn> pool = smallPool(m, 1, Duration.ofSeconds(30), Ticker.system(), Duration.ZERO, sched, Runnable::run);
        try {
            Lease<Conn> l = pool.acquire().get(5, TimeUnit.SECONDS);
            assertThat(pool.closeIdleConnections()).isZero();
            l.invalidate();
            PoolStats s = pool.stats();
            assertThat(s.closedByReason().get(CloseReason.INVALIDATED)).as("%s", s).isEqualTo(1L);
            assertThat(s.closedByReason().get(CloseReason.EVICTED)).as("%s", s).isZero();
        } finally {
            pool.close();
            sched.shutdownNow();
            m.shutdown();
        }
    }

    /**
     * Defect D8 (statistics): a slot chosen for a waiter whose caller cancels before the
     * deferred delivery is counted as an acquisition (and maybe a miss) although nobody
     * got a lease. The delivery is deferred deterministically: it happens inside another
     * waiter's continuation, so the pool hands it to the completion executor, held here.
     */

    @Test
    @Timeout(30)
    void aDeliveryRefusedByACancelledCallerIsNotCountedAsAnAcquisition() throws Exception {
        FakeManagerForStress m = syncManager(19);
        ScheduledExecutorService sched = StressTrackedExecutor.scheduler("d8");
        ConcurrentLinkedQueue<Runnable> deferred = new ConcurrentLinkedQueue<>();
        Pool<Conn> pool = smallPool(m, 2, Duration.ofSeconds(30), Ticker.system(), Duration.ZERO, sched, deferred::add);
        try {
            Lease<Conn> a = pool.acquire().get(5, TimeUnit.SECONDS);
            Lease<Conn> b = pool.acquire().get(5, TimeUnit.SECONDS);
            CompletableFuture<Lease<Conn>> w1 = pool.acquire();
            CompletableFuture<Lease<Conn>> w2 = pool.acquire();
            // w1's continuation releases b: w2 is chosen inside w1's completion, so its delivery is deferred.
            CompletableFuture<Void> chain = w1.thenAccept(l -> b.close());
            long before = pool.stats().acquisitions();
            a.close(); // serves w1 -> its continuation closes b -> w2 chosen, delivery deferred
            assertThat(chain).isDone();
            assertThat(deferred).hasSize(1);
            assertThat(w2.cancel(false)).isTrue();
            deferred.poll().run();
            PoolStats s = pool.stats();
            assertThat(s.leasesOut()).as("%s", s).isEqualTo(1);
            assertThat(s.acquisitions() - before).as("acquisitions counted for w1 and the cancelled w2: %s", s)
                    .isEqualTo(1);
            w1.join().close();
        } finally {
            pool.close();
            sched.shutdownNow();
            m.shutdown();
        }
    }

    private static void awaitQuiet(StressTrackedExecutor exec, FakeManagerForStress m) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        int stable = 0;
        while (stable < 2 && System.nanoTime() < deadline) {
            stable = exec.inFlight.get() == 0 && m.inFlight.get() == 0 ? stable + 1 : 0;
            if (stable == 0) {
                Thread.sleep(0, 100_000);
            } else {
                Thread.yield();
            }
        }
    }

    private static void await(CyclicBarrier b) {
        try {
            b.await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Busy-waits a little to shift the interleaving between trials. */
    static final class LockSupportSpin {
        static void spinNanos(long nanos) {
            long end = System.nanoTime() + nanos;
            while (System.nanoTime() < end) {
                Thread.onSpinWait();
            }
        }

        static void spinMicros(int micros) {
            long end = System.nanoTime() + micros * 1_000L;
            while (System.nanoTime() < end) {
                Thread.onSpinWait();
            }
        }
    }
}

package io.sluice.http.internal.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The callback executor against what callers do to it: completions that block, even on a future whose
 * completion is queued behind them; producers racing the lane going to sleep; tasks offered after the
 * client closed. Each case hangs or loses a task in a naive lane executor (one thread per lane, no
 * watchdog, rejecting after shutdown). Then adversarial interleavings, written from outside the
 * implementation: work queued behind a blocked lane at shutdown, a task offered just as a lane starts a
 * blocking one (probabilistic: the window is tens of nanoseconds, swept by jittered offers), interrupts a
 * callback leaves behind, a blocked lane beside a busy one, blocked callbacks under a stream of completions
 * (helpers bounded), and a lane's own submissions staying on it. The CPU-time cases read the lanes' CPU
 * time over an idle period (a spinning lane burns it; a sleeping one does not).
 */
class CallbackExecutorTest {

    @Test
    @Timeout(10)
    void aCallbackBlockedOnAFutureQueuedBehindItStillGetsIt() throws Exception {
        CallbackExecutor ex = new CallbackExecutor(1, "t");
        try {
            CompletableFuture<String> later = new CompletableFuture<>();
            CountDownLatch blockerRunning = new CountDownLatch(1);
            CompletableFuture<String> blockerResult = new CompletableFuture<>();
            // A user callback doing a blocking join on another response, as synchronous code often does.
            ex.execute(() -> {
                blockerRunning.countDown();
                blockerResult.complete(later.join());
            });
            blockerRunning.await();
            // The completion it waits for is offered to the same (single) lane, behind it.
            ex.execute(() -> later.complete("answer"));
            assertThat(blockerResult.get(5, TimeUnit.SECONDS)).isEqualTo("answer");
            assertThat(ex.helpersStarted()).isGreaterThanOrEqualTo(1);
        } finally {
            ex.shutdown();
        }
    }

    @Test
    @Timeout(10)
    void tasksQueuedBeforeTheBlockingOneStartedAreMovedToo() throws Exception {
        CallbackExecutor ex = new CallbackExecutor(1, "t");
        try {
            CountDownLatch gate = new CountDownLatch(1);
            CountDownLatch firstRunning = new CountDownLatch(1);
            CompletableFuture<String> behind = new CompletableFuture<>();
            CompletableFuture<String> blocked = new CompletableFuture<>();
            // Hold the lane in a short task while the blocking one and its dependency queue up: when the lane
            // picks the blocking task, the dependency is already queued and no producer will come to arm anything.
            ex.execute(() -> {
                firstRunning.countDown();
                await(gate);
            });
            firstRunning.await();
            ex.execute(() -> blocked.complete(behind.join()));
            ex.execute(() -> behind.complete("x"));
            gate.countDown();
            assertThat(blocked.get(5, TimeUnit.SECONDS)).isEqualTo("x");
        } finally {
            ex.shutdown();
        }
    }

    /**
     * One event loop's completions all go to its lane; when that lane is busy and a backlog forms, the other
     * lane takes it instead of idling. Without stealing this deadlocks: the first task waits for the backlog.
     */
    @Test
    @Timeout(10)
    void anIdleLaneTakesTheBacklogOfABusyOne() throws Exception {
        // no watchdog rescue within the test: only stealing can run the backlog while the first task holds its lane
        CallbackExecutor ex = new CallbackExecutor(2, "t", TimeUnit.MINUTES.toNanos(5));
        try {
            CountDownLatch busy = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<String> b = new CompletableFuture<>();
            CompletableFuture<String> c = new CompletableFuture<>();
            Thread producer = new Thread(() -> {
                ex.execute(() -> {
                    busy.countDown();
                    try {
                        release.await(); // busy until the backlog has run elsewhere
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                try {
                    busy.await();
                } catch (InterruptedException e) {
                    return;
                }
                ex.execute(() -> b.complete(Thread.currentThread().getName()));
                ex.execute(() -> c.complete(Thread.currentThread().getName()));
            });
            producer.start();
            try {
                assertThat(b.get(5, TimeUnit.SECONDS)).contains("-lane-");
                assertThat(c.get(5, TimeUnit.SECONDS)).contains("-lane-");
                assertThat(ex.helpersStarted()).isZero();
            } finally {
                release.countDown();
            }
        } finally {
            ex.shutdown();
        }
    }

    @Test
    @Timeout(30)
    void everyTaskRunsExactlyOnceUnderRacingProducers() throws Exception {
        CallbackExecutor ex = new CallbackExecutor(2, "t");
        try {
            int producers = 4;
            int perProducer = 50_000;
            LongAdder ran = new LongAdder();
            AtomicInteger[] seen = new AtomicInteger[producers * perProducer];
            for (int i = 0; i < seen.length; i++) {
                seen[i] = new AtomicInteger();
            }
            CountDownLatch done = new CountDownLatch(seen.length);
            List<Thread> threads = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                int base = p * perProducer;
                Thread t = new Thread(() -> {
                    for (int i = 0; i < perProducer; i++) {
                        int id = base + i;
                        ex.execute(() -> {
                            seen[id].incrementAndGet();
                            ran.increment();
                            done.countDown();
                        });
                        if ((i & 1023) == 0) {
                            // let the lanes drain and go to sleep now and then, so wake-ups race sleeps
                            java.util.concurrent.locks.LockSupport.parkNanos(50_000);
                        }
                    }
                });
                threads.add(t);
                t.start();
            }
            for (Thread t : threads) {
                t.join();
            }
            assertThat(done.await(20, TimeUnit.SECONDS)).as("ran %d of %d", ran.sum(), seen.length).isTrue();
            for (AtomicInteger s : seen) {
                assertThat(s.get()).isEqualTo(1);
            }
        } finally {
            ex.shutdown();
        }
    }

    @Test
    @Timeout(10)
    void tasksOfferedAfterShutdownStillRunAndQueuedOnesFinish() throws Exception {
        CallbackExecutor ex = new CallbackExecutor(1, "t");
        CountDownLatch gate = new CountDownLatch(1);
        CountDownLatch running = new CountDownLatch(1);
        CompletableFuture<String> queued = new CompletableFuture<>();
        ex.execute(() -> {
            running.countDown();
            await(gate);
        });
        running.await();
        ex.execute(() -> queued.complete("queued before shutdown"));
        ex.shutdown();
        CompletableFuture<String> late = new CompletableFuture<>();
        ex.execute(() -> late.complete("offered after shutdown"));
        gate.countDown();
        assertThat(queued.get(5, TimeUnit.SECONDS)).isEqualTo("queued before shutdown");
        assertThat(late.get(5, TimeUnit.SECONDS)).isEqualTo("offered after shutdown");
    }

    @Test
    @Timeout(10)
    void aThrowingTaskDoesNotKillItsLane() throws Exception {
        CallbackExecutor ex = new CallbackExecutor(1, "t");
        try {
            Thread.UncaughtExceptionHandler quiet = (t, e) -> { };
            CompletableFuture<Thread> laneThread = new CompletableFuture<>();
            ex.execute(() -> {
                Thread.currentThread().setUncaughtExceptionHandler(quiet);
                laneThread.complete(Thread.currentThread());
            });
            Thread lane = laneThread.get(5, TimeUnit.SECONDS);
            ex.execute(() -> {
                throw new IllegalStateException("user callback failed");
            });
            CompletableFuture<Thread> after = new CompletableFuture<>();
            ex.execute(() -> after.complete(Thread.currentThread()));
            assertThat(after.get(5, TimeUnit.SECONDS)).isSameAs(lane);
        } finally {
            ex.shutdown();
        }
    }

    /**
     * A thread that completed a future on a client's executor must not keep that executor (its lanes,
     * queues and helper pool) reachable after the client closed: a per-thread lane cache in a ThreadLocal
     * did, for as long as the thread lived (a ThreadLocal's value is strongly held by the thread).
     */
    @Test
    @Timeout(30)
    void aClosedExecutorIsNotKeptByThreadsThatUsedIt() throws Exception {
        java.lang.ref.WeakReference<CallbackExecutor> ref = useAndClose();
        for (int i = 0; i < 50 && ref.get() != null; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertThat(ref.get()).as("executor collected after shutdown").isNull();
    }

    private static java.lang.ref.WeakReference<CallbackExecutor> useAndClose() throws Exception {
        CallbackExecutor ex = new CallbackExecutor(2, "t");
        CompletableFuture<Void> ran = new CompletableFuture<>();
        ex.execute(() -> ran.complete(null)); // from this (long-lived) test thread
        ran.get(5, TimeUnit.SECONDS);
        ex.shutdown();
        Thread.sleep(100); // lanes exit
        return new java.lang.ref.WeakReference<>(ex);
    }

    // ---------------------------------------------------------------- adversarial interleavings and interrupts

    /**
     * work queued behind blocked callbacks before {@link CallbackExecutor#shutdown()} still runs
     * (the class comment: "the lanes run what they hold"). The watchdog loop is {@code while (!shutdown)}, so a
     * backlog queued behind a lane whose task is blocked on that very backlog is never moved once shutdown()
     * runs: the client's close() fails in-flight calls (queuing their completions) and calls shutdown()
     * microseconds later, well inside the two watchdog looks a helper needs.
     */
    @Test
    @Timeout(15)
    void workQueuedBehindABlockedLaneAtShutdownStillRuns() throws Exception {
        CallbackExecutor ex = new CallbackExecutor(1, "t");
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch released = new CountDownLatch(1);
        CompletableFuture<Boolean> outer = new CompletableFuture<>();
        ex.execute(() -> {
            running.countDown();
            try {
                // a continuation joined on another call's future, as CallbackThreadsTest does
                outer.complete(released.await(5, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                outer.completeExceptionally(e);
            }
        });
        running.await();
        ex.execute(released::countDown); // the inner call's (failure) completion, queued by close()
        ex.shutdown();                   // close() ends with this
        assertThat(outer.get(10, TimeUnit.SECONDS)).as("the blocked callback got its completion").isTrue();
    }

    /**
     * a task offered to a lane is never left in its queue with no lane and no watchdog coming.
     * execute() arms the watchdog only when it sees {@code runningSince != 0}; the lane arms it only when its
     * own queue is non-empty right after its take(). A task offered between the lane's isEmpty() check
     * (CallbackExecutor.java:314) and runTask's {@code runningSince} write (:261) does neither; when the task
     * just taken blocks on it, and the other lane sleeps, nothing ever runs it. Probabilistic: the window is a
     * few tens of ns, so the producer's second offer is jittered over the lane's wake-up latency. A short
     * stall period makes every miss cost well under a millisecond; a hit waits for the blocked task's timeout.
     */
    @Test
    @Timeout(120)
    void aTaskOfferedAsTheLaneStartsABlockingOneIsNotStranded() throws Exception {
        CallbackExecutor ex = new CallbackExecutor(2, "t", TimeUnit.MICROSECONDS.toNanos(200));
        try {
            AtomicInteger stranded = new AtomicInteger();
            AtomicInteger iterations = new AtomicInteger();
            Thread producer = new Thread(() -> {
                Thread lane = null;
                long latency = 20_000; // running estimate of offer -> T1 running, ns
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                while (System.nanoTime() < end && stranded.get() == 0) {
                    if (lane != null) {
                        // both lanes parked, watchdog disarmed (a pass found nothing queued)
                        while (lane.getState() != Thread.State.WAITING) {
                            Thread.onSpinWait();
                        }
                        LockSupport.parkNanos(1_000_000);
                    }
                    CountDownLatch dependency = new CountDownLatch(1);
                    CompletableFuture<Thread> t1 = new CompletableFuture<>();
                    long[] t1Started = new long[1];
                    long offeredT1 = System.nanoTime();
                    ex.execute(() -> {
                        t1Started[0] = System.nanoTime(); // just after runTask wrote runningSince
                        try {
                            if (!dependency.await(5, TimeUnit.SECONDS)) { // a hang bound: a rescued dependency comes in about a millisecond
                                stranded.incrementAndGet();
                            }
                        } catch (InterruptedException e) {
                            Thread.interrupted();
                        }
                        t1.complete(Thread.currentThread());
                    });
                    // aim the second offer just before T1 starts: the lane took T1 and checked its queue
                    long spin = Math.max(0, latency - ThreadLocalRandom.current().nextLong(4_000));
                    long until = offeredT1 + spin;
                    while (System.nanoTime() < until) {
                        Thread.onSpinWait();
                    }
                    ex.execute(dependency::countDown);
                    lane = t1.join();
                    long observed = t1Started[0] - offeredT1;
                    latency += (observed - latency) / 8;
                    iterations.incrementAndGet();
                }
            }, "producer");
            producer.start();
            producer.join();
            assertThat(stranded.get()).as("blocked tasks whose dependency was stranded in the queue, in %d iterations",
                    iterations.get()).isZero();
        } finally {
            ex.shutdown();
        }
    }

    /**
     * an interrupt status a callback leaves behind (the usual {@code catch (InterruptedException e)
     * { Thread.currentThread().interrupt(); }}, also what Errors.join does) does not reach the next, unrelated
     * callback. Lanes never clear it (a ThreadPoolExecutor does between tasks), so the next user callback's
     * blocking wait fails at once.
     */
    @Test
    @Timeout(10)
    void anInterruptLeftByOneCallbackDoesNotReachTheNext() throws Exception {
        CallbackExecutor ex = new CallbackExecutor(1, "t");
        try {
            ex.execute(() -> Thread.currentThread().interrupt());
            CompletableFuture<Boolean> next = new CompletableFuture<>();
            ex.execute(() -> next.complete(Thread.currentThread().isInterrupted()));
            assertThat(next.get(5, TimeUnit.SECONDS)).as("next callback starts interrupted").isFalse();
        } finally {
            ex.shutdown();
        }
    }

    /**
     * an idle lane sleeps. With its interrupt status set, {@code LockSupport.park} returns at once and
     * the lane's {@code while (sleeping && !shutdown) park} loop (CallbackExecutor.java:331) spins a core for as
     * long as the client lives.
     */
    @Test
    @Timeout(10)
    void anInterruptedIdleLaneDoesNotSpin() throws Exception {
        CallbackExecutor ex = new CallbackExecutor(1, "t");
        try {
            CompletableFuture<Thread> lane = new CompletableFuture<>();
            ex.execute(() -> {
                lane.complete(Thread.currentThread());
                Thread.currentThread().interrupt();
            });
            Thread t = lane.get(5, TimeUnit.SECONDS);
            Thread.sleep(100);
            ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            long before = mx.getThreadCpuTime(t.getId());
            Thread.sleep(500);
            long burnt = mx.getThreadCpuTime(t.getId()) - before;
            assertThat(TimeUnit.NANOSECONDS.toMillis(burnt)).as("CPU ms used by an idle lane in 500 ms").isLessThan(50);
        } finally {
            ex.shutdown();
        }
    }

    /**
     * (Class comment): "nothing queued behind a blocked callback waits on it for more than about two
     * passes". The watchdog only wakes a sleeping lane or, when EVERY worker is stalled, starts a helper. With
     * one lane blocked and the other busy on its own queue (never empty, never stalled: short tasks), the
     * backlog of the blocked lane's producer waits for the blocked task to end, since take() polls the own
     * queue first and nobody steals.
     */
    @Test
    @Timeout(30)
    void aBacklogBehindABlockedLaneRunsWhileTheOtherLaneIsBusy() throws Exception {
        CallbackExecutor ex = new CallbackExecutor(2, "t");
        AtomicBoolean stop = new AtomicBoolean();
        try {
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch blocking = new CountDownLatch(1);
            CompletableFuture<Boolean> behind = new CompletableFuture<>();
            AtomicInteger outstanding = new AtomicInteger();
            Runnable feed = () -> {
                while (!stop.get()) {
                    if (outstanding.get() < 500) { // a standing backlog of ~100 ms on the busy lane
                        outstanding.incrementAndGet();
                        ex.execute(() -> {
                            busy(200_000); // 200 us of work, never a stall
                            outstanding.decrementAndGet();
                        });
                    } else {
                        LockSupport.parkNanos(1_000_000); // don't take the busy lane's core (it must not look stalled)
                    }
                }
            };
            java.util.concurrent.atomic.AtomicBoolean blockerDone = new java.util.concurrent.atomic.AtomicBoolean();
            Runnable block = () -> {
                ex.execute(() -> {
                    blocking.countDown();
                    try {
                        release.await(30, TimeUnit.SECONDS); // a long synchronous call inside a callback
                    } catch (InterruptedException e) {
                        Thread.interrupted();
                    }
                    blockerDone.set(true);
                });
                try {
                    blocking.await();
                } catch (InterruptedException e) {
                    return;
                }
                ex.execute(() -> behind.complete(blockerDone.get()));
            };
            // two producers on different lanes (a producer's lane is its thread id modulo 2)
            Thread busy = new Thread(feed);
            Thread blocked = threadOnLane(2, 1 - (int) Math.floorMod(busy.getId(), 2L), block);
            busy.start();
            Thread.sleep(100);
            blocked.start();
            // Ordered, not timed: the task behind must run while the blocking callback still blocks (it blocks until
            // released, after this); without a helper it would run only after that, and this get would time out.
            Boolean ranAfterTheBlocker = behind.get(20, TimeUnit.SECONDS);
            release.countDown();
            assertThat(ranAfterTheBlocker).as("the task behind the blocked callback ran only once it returned").isFalse();
        } finally {
            stop.set(true);
            ex.shutdown();
        }
    }

    /**
     * a bounded number of threads. Callbacks that block for good (a user deadlock, a synchronous call
     * with no timeout) under a steady stream of completions make the watchdog start a helper every second look,
     * without limit (helperPool max = Integer.MAX_VALUE): about 50 threads a second until the JVM cannot create
     * more, and then the watchdog itself dies on the RejectedExecutionException/OutOfMemoryError.
     */
    @Test
    @Timeout(30)
    void blockedCallbacksDoNotGrowThreadsWithoutBound() throws Exception {
        CallbackExecutor ex = new CallbackExecutor(1, "t", CallbackExecutor.STALL_NANOS, 16);
        CountDownLatch never = new CountDownLatch(1);
        try {
            for (int i = 0; i < 1_000; i++) {
                ex.execute(() -> {
                    try {
                        never.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.interrupted();
                    }
                });
            }
            Thread.sleep(2_000); // ~100 passes: unbounded, that was a helper every second pass
            assertThat(ex.helpersStarted()).as("helper threads started in 2 s, at most 16 at once").isBetween(1L, 16L);
        } finally {
            never.countDown();
            ex.shutdown();
        }
    }

    /** A task queued behind a blocked lane task at shutdown() is still rescued: the watchdog outlives the shutdown while lanes hold work. */
    @Test
    @Timeout(20)
    void aTaskQueuedBehindABlockedCallbackAtShutdownStillRuns() throws Exception {
        CallbackExecutor ex = new CallbackExecutor(1, "t");
        CompletableFuture<String> later = new CompletableFuture<>();
        CompletableFuture<String> blocked = new CompletableFuture<>();
        CountDownLatch running = new CountDownLatch(1);
        ex.execute(() -> {
            running.countDown();
            blocked.complete(later.join()); // a continuation joining another call of the same client
        });
        running.await();
        ex.execute(() -> later.complete("failure of the call cut by close")); // queued behind it
        ex.shutdown(); // client.close() right after
        assertThat(blocked.get(5, TimeUnit.SECONDS)).isEqualTo("failure of the call cut by close");
    }

    /** A task's interrupt status is cleared before the next task, and the idle lane then sleeps instead of spinning in park(). */
    @Test
    @Timeout(20)
    void anInterruptLeftByATaskDoesNotReachTheNextTaskNorSpinTheLane() throws Exception {
        CallbackExecutor ex = new CallbackExecutor(1, "t");
        try {
            CompletableFuture<Long> lane = new CompletableFuture<>();
            ex.execute(() -> {
                Thread.currentThread().interrupt(); // e.g. catch (InterruptedException e) { restore flag }
                lane.complete(Thread.currentThread().getId());
            });
            long id = lane.get(5, TimeUnit.SECONDS);
            Thread.sleep(50);
            ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            long cpu0 = mx.getThreadCpuTime(id);
            Thread.sleep(500); // idle
            long idleCpuMs = (mx.getThreadCpuTime(id) - cpu0) / 1_000_000;
            CompletableFuture<Boolean> next = new CompletableFuture<>();
            ex.execute(() -> next.complete(Thread.currentThread().isInterrupted()));
            boolean nextInterrupted = next.get(5, TimeUnit.SECONDS);
            assertThat(idleCpuMs).as("idle lane CPU ms in 500 ms").isLessThan(50);
            assertThat(nextInterrupted).as("next task runs interrupted").isFalse();
        } finally {
            ex.shutdown();
        }
    }

    /**
     * A lane blocked with its own backlog is rescued while the other lane keeps busy with its own queue (it
     * used to be rescued only by stealing, by idle lanes, or by a helper when every worker was stalled).
     */
    @Test
    @Timeout(30)
    void aBacklogBehindABlockedLaneRunsWhileTheOtherLaneRunsShortCallbacks() throws Exception {
        CallbackExecutor ex = new CallbackExecutor(2, "t");
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch running = new CountDownLatch(1);
        try {
            CompletableFuture<String> later = new CompletableFuture<>();
            CompletableFuture<String> blocked = new CompletableFuture<>();
            Thread loop0 = threadOnLane(2, 0, () -> {
                ex.execute(() -> {
                    running.countDown();
                    blocked.complete(later.join());
                });
                await(running);
                ex.execute(() -> later.complete("x"));
            });
            AtomicInteger pending = new AtomicInteger();
            Thread loop1 = threadOnLane(2, 1, () -> { // a busy event loop: 1 ms callbacks, always ~20 queued
                while (!stop.get()) {
                    if (pending.get() < 20) {
                        pending.incrementAndGet();
                        ex.execute(() -> {
                            busy(1_000_000);
                            pending.decrementAndGet();
                        });
                    } else {
                        LockSupport.parkNanos(100_000);
                    }
                }
            });
            loop1.start();
            Thread.sleep(100);
            loop0.start();
            assertThat(blocked.get(3, TimeUnit.SECONDS)).isEqualTo("x");
        } finally {
            stop.set(true);
            ex.shutdown();
        }
    }

    /**
     * No lost watchdog arm: Lane.run() used to check its queue (empty) and only then publish runningSince
     * (in runTask); a producer offering in between saw the lane neither sleeping nor running and armed
     * nothing, so a task that blocks on the one just queued behind it waited for ever (here: its timeout).
     * Probabilistic: the window is tens of ns; each round starts with the watchdog disarmed, offers T to a
     * sleeping lane and U after a jittered delay that sweeps the lane's wake-up.
     */
    @Test
    @Timeout(120)
    void everyTaskBehindABlockedOneIsRescued() throws Exception {
        long stall = TimeUnit.MICROSECONDS.toNanos(300);
        CallbackExecutor ex = new CallbackExecutor(1, "t", stall);
        AtomicInteger lost = new AtomicInteger();
        int rounds = Integer.getInteger("review.rounds", 3_000);
        int round = 0;
        try {
            java.util.Random rnd = new java.util.Random(1);
            for (; round < rounds && lost.get() == 0; round++) {
                LockSupport.parkNanos(1_000_000); // watchdog passes with nothing queued: disarmed; lane asleep
                CompletableFuture<String> later = new CompletableFuture<>();
                CountDownLatch done = new CountDownLatch(1);
                ex.execute(() -> { // T: a continuation blocking on U
                    try {
                        later.get(5, TimeUnit.SECONDS); // a hang bound, not a timing: rescued U completes it in about a millisecond
                    } catch (TimeoutException e) {
                        lost.incrementAndGet();
                    } catch (Exception ignored) {
                        // not expected
                    }
                    done.countDown();
                });
                busy(rnd.nextInt(150_000));
                ex.execute(() -> later.complete("u")); // U
                done.await();
            }
        } finally {
            ex.shutdown();
        }
        System.out.println("lost watchdog arms: " + lost.get() + " in " + round + " rounds");
        assertThat(lost.get()).as("rounds where U waited behind T with no watchdog armed").isZero();
    }

    /**
     * A task submitted from a lane thread (Call.startAggregated: the body's last chunk completes the
     * aggregate on a lane, whose whenComplete executes the response's completion) stays on that lane; it was
     * offered to lane (lane thread id mod N), usually another, sleeping lane, which was unparked: a second
     * wake-up per send(). Counted as lane threads that used CPU (were unparked) for one such two-hop completion.
     */
    @Test
    @Timeout(30)
    void aTaskSubmittedFromALaneWakesNoOtherLane() throws Exception {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        int worst = 0;
        for (int e = 0; e < 3; e++) {
            CallbackExecutor ex = new CallbackExecutor(8, "hop" + e);
            try {
                ex.execute(() -> { });
                Thread.sleep(50);
                java.util.List<Long> lanes = new java.util.ArrayList<>();
                for (Thread t : Thread.getAllStackTraces().keySet()) {
                    if (t.getName().startsWith("hop" + e + "-lane-")) {
                        lanes.add(t.getId());
                    }
                }
                for (int round = 0; round < 10; round++) {
                    Thread.sleep(20);
                    long[] before = new long[lanes.size()];
                    for (int i = 0; i < before.length; i++) {
                        before[i] = mx.getThreadCpuTime(lanes.get(i));
                    }
                    CompletableFuture<String> second = new CompletableFuture<>();
                    ex.execute(() -> ex.execute(() -> second.complete(Thread.currentThread().getName())));
                    second.get(5, TimeUnit.SECONDS);
                    Thread.sleep(5);
                    int woken = 0;
                    for (int i = 0; i < before.length; i++) {
                        if (mx.getThreadCpuTime(lanes.get(i)) != before[i]) {
                            woken++;
                        }
                    }
                    worst = Math.max(worst, woken);
                }
            } finally {
                ex.shutdown();
            }
        }
        assertThat(worst).as("lanes woken for one event-loop hop plus one lane hop").isEqualTo(1);
    }

    /** Spins (a callback doing work, never a stall) for {@code nanos}. */
    private static void busy(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }

    /** A new unstarted thread running {@code r} whose id maps to {@code lane} (CallbackExecutor picks lanes by thread id). */
    private static Thread threadOnLane(int lanes, int lane, Runnable r) {
        for (;;) {
            Thread t = new Thread(r);
            if (Math.floorMod(t.getId(), (long) lanes) == lane) {
                return t;
            }
        }
    }

    private static void await(CountDownLatch l) {
        try {
            l.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

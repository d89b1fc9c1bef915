package io.sluice.http.internal.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The callback executor against adversarial interleavings, written from outside its implementation. Each test states the
 * intended behaviour; a failure shows the defect.
 */
class CallbackExecutorAdversaryTest {

    /**
     * Intended: work queued behind blocked callbacks before {@link CallbackExecutor#shutdown()} still runs
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
     * Intended: a task offered to a lane is never left in its queue with no lane and no watchdog coming.
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
                            if (!dependency.await(300, TimeUnit.MILLISECONDS)) {
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
     * Intended: an interrupt status a callback leaves behind (the usual {@code catch (InterruptedException e)
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
     * Intended: an idle lane sleeps. With its interrupt status set, {@code LockSupport.park} returns at once and
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
     * Intended (class comment): "nothing queued behind a blocked callback waits on it for more than about two
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
            CompletableFuture<Long> behind = new CompletableFuture<>();
            AtomicInteger outstanding = new AtomicInteger();
            Runnable feed = () -> {
                while (!stop.get()) {
                    if (outstanding.get() < 500) { // a standing backlog of ~100 ms on the busy lane
                        outstanding.incrementAndGet();
                        ex.execute(() -> {
                            long until = System.nanoTime() + 200_000; // 200 us of work, never a stall
                            while (System.nanoTime() < until) {
                                Thread.onSpinWait();
                            }
                            outstanding.decrementAndGet();
                        });
                    } else {
                        LockSupport.parkNanos(1_000_000); // don't take the busy lane's core (it must not look stalled)
                    }
                }
            };
            Runnable block = () -> {
                ex.execute(() -> {
                    blocking.countDown();
                    try {
                        release.await(8, TimeUnit.SECONDS); // a 8 s synchronous call inside a callback
                    } catch (InterruptedException e) {
                        Thread.interrupted();
                    }
                });
                try {
                    blocking.await();
                } catch (InterruptedException e) {
                    return;
                }
                long offered = System.nanoTime();
                ex.execute(() -> behind.complete(System.nanoTime() - offered));
            };
            // two producers on different lanes (a producer's lane is its thread id modulo 2)
            Thread busy = new Thread(feed);
            Thread blocked = otherLane(busy, block);
            busy.start();
            Thread.sleep(100);
            blocked.start();
            long waitedMs = TimeUnit.NANOSECONDS.toMillis(behind.get(20, TimeUnit.SECONDS));
            release.countDown();
            assertThat(waitedMs).as("ms the task behind the blocked callback waited").isLessThan(1_000);
        } finally {
            stop.set(true);
            ex.shutdown();
        }
    }

    /**
     * Intended: a bounded number of threads. Callbacks that block for good (a user deadlock, a synchronous call
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

    /** A new unstarted thread running {@code r} whose id falls on the other lane of a 2-lane executor than {@code t}'s. */
    private static Thread otherLane(Thread t, Runnable r) {
        Thread o = new Thread(r);
        while ((o.getId() & 1) == (t.getId() & 1)) {
            o = new Thread(r);
        }
        return o;
    }
}

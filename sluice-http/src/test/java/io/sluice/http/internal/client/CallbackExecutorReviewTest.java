package io.sluice.http.internal.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Review findings against CallbackExecutor (branch wip-review-cb). Each test fails on 0e78606. */
class CallbackExecutorReviewTest {

    /** F1: shutdown() ends the watchdog, so a task queued behind a blocked lane task is never rescued. */
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

    /** F2: the lane never clears a task's interrupt: the next task sees it and the idle lane spins in park(). */
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
     * F3: a lane blocked with its own backlog is rescued only by stealing (idle lanes) or a helper when
     * EVERY worker is stalled; while the other lane keeps busy with its own queue, neither happens.
     */
    @Test
    @Timeout(30)
    void aBacklogBehindABlockedLaneRunsWhileTheOtherLaneIsBusy() throws Exception {
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
                            long end = System.nanoTime() + 1_000_000;
                            while (System.nanoTime() < end) {
                                Thread.onSpinWait();
                            }
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
     * F4: lost watchdog arm. Lane.run() checks its queue (empty) and only then publishes runningSince
     * (in runTask); a producer offering in between sees the lane neither sleeping nor running and arms
     * nothing, so a task that blocks on the one just queued behind it waits for ever (here: its timeout).
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
                        later.get(100, TimeUnit.MILLISECONDS);
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
        System.out.println("F4: " + lost.get() + " lost arm(s) in " + round + " rounds");
        assertThat(lost.get()).as("rounds where U waited behind T with no watchdog armed").isZero();
    }

    /**
     * F6: a task submitted from a lane thread (Call.startAggregated: the body's last chunk completes the
     * aggregate on a lane, whose whenComplete executes the response's completion) is offered to lane
     * (lane thread id mod N), usually another, sleeping lane, which is unparked: a second wake-up per
     * send(). Counted as lane threads that used CPU (were unparked) for one such two-hop completion.
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

    private static void busy(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }

    /** A started-later thread whose id maps to the given lane (CallbackExecutor picks lanes by thread id). */
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

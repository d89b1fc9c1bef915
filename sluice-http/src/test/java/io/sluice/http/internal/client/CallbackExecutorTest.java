package io.sluice.http.internal.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The callback executor against what callers do to it: completions that block, even on a future whose
 * completion is queued behind them; producers racing the lane going to sleep; tasks offered after the
 * client closed. Each case hangs or loses a task in a naive lane executor (one thread per lane, no
 * watchdog, rejecting after shutdown).
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

    private static void await(CountDownLatch l) {
        try {
            l.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

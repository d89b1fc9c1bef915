package io.sluice.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.pool.FakeConnectionManager.Conn;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class PoolTest {

    private final FakeConnectionManager manager = new FakeConnectionManager();
    private final ManualTicker ticker = new ManualTicker();
    private final ScheduledExecutorService scheduler = PoolScheduler.newScheduler("test");
    private final List<Pool<?>> pools = new ArrayList<>();

    @AfterEach
    void tearDown() {
        pools.forEach(Pool::close);
        scheduler.shutdownNow();
    }

    private Pool<Conn> pool(PoolConfig.Builder config) {
        Pool<Conn> p = Pool.builder(manager).name("test").config(config.build()).ticker(ticker)
                .scheduler(scheduler).periodicHousekeeping(false).build();
        pools.add(p);
        return p;
    }

    private static PoolConfig.Builder cfg(int max) {
        return PoolConfig.builder().maxConnections(max).minIdle(0).validationBypassWindow(Duration.ZERO);
    }

    private static void assertExact(Pool<?> p) {
        PoolStats s = p.stats();
        assertThat(s.open()).as("open = idle + inUse + draining").isEqualTo(s.idle() + s.inUse() + s.draining());
        assertThat(s.open() + s.connecting()).as("within max").isLessThanOrEqualTo(Math.max(s.maxConnections(), s.open()));
    }

    @Test
    void acquireOfIdleSlotIsAlreadyComplete() {
        Pool<Conn> p = pool(cfg(2));
        Lease<Conn> first = p.acquire().join();
        first.close();
        CompletableFuture<Lease<Conn>> f = p.acquire();
        assertThat(f).isDone();
        Lease<Conn> again = f.join();
        assertThat(again.connection()).isSameAs(first.connection());
        again.close();
        assertThat(p.stats().created()).isEqualTo(1);
        assertExact(p);
    }

    @Test
    void tryAcquireReturnsLeaseOrNullWithoutWaiting() {
        Pool<Conn> p = pool(cfg(1));
        assertThat(p.tryAcquire()).as("nothing open yet").isNull();
        Lease<Conn> l = p.acquire().join();
        assertThat(p.tryAcquire()).as("the only slot is taken").isNull();
        l.close();
        Lease<Conn> t = p.tryAcquire();
        assertThat(t).isNotNull();
        t.close();
        assertThat(p.stats().leasesOut()).isZero();
    }

    @Test
    void closingALeaseTwiceIsHarmless() {
        Pool<Conn> p = pool(cfg(1));
        Lease<Conn> l = p.acquire().join();
        l.close();
        l.close();
        l.invalidate();
        assertThat(l.isClosed()).isTrue();
        PoolStats s = p.stats();
        assertThat(s.leasesOut()).isZero();
        assertThat(s.idle()).isEqualTo(1);
        assertThat(s.closed()).isZero();
    }

    @Test
    void invalidateDropsTheConnection() {
        Pool<Conn> p = pool(cfg(1));
        Lease<Conn> l = p.acquire().join();
        Conn c = l.connection();
        l.invalidate();
        assertThat(c.closes.get()).isEqualTo(1);
        Lease<Conn> next = p.acquire().join();
        assertThat(next.connection()).isNotSameAs(c);
        next.close();
        assertThat(p.stats().closedByReason()).containsEntry(CloseReason.INVALIDATED, 1L);
        assertExact(p);
    }

    @Test
    void preWarmsMinIdle() {
        Pool<Conn> p = pool(cfg(20).minIdle(10));
        p.warmUp().join();
        PoolStats s = p.stats();
        assertThat(s.open()).isEqualTo(10);
        assertThat(s.idle()).isEqualTo(10);
        Lease<Conn> l = p.acquire().join();
        assertThat(l.freshConnection()).as("a pre-warmed connection is a hit").isFalse();
        l.close();
        assertThat(p.stats().hitRate()).isEqualTo(1.0);
    }

    @Test
    void concurrentCallersNeverExceedMax() throws Exception {
        manager.holdConnects = false;
        Pool<Conn> p = pool(cfg(5));
        ExecutorService ex = Executors.newFixedThreadPool(8);
        try {
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                all.add(p.acquire().thenAcceptAsync(l -> {
                    assertThat(manager.openNow.get()).isLessThanOrEqualTo(5);
                    l.close();
                }, ex));
            }
            CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).get(20, TimeUnit.SECONDS);
        } finally {
            ex.shutdownNow();
        }
        assertThat(manager.maxOpenSeen.get()).isLessThanOrEqualTo(5);
        assertThat(p.stats().leasesOut()).isZero();
        assertThat(p.stats().acquisitions()).isEqualTo(400);
        assertExact(p);
    }

    @Test
    void waitersAreServedInFifoOrder() {
        Pool<Conn> p = pool(cfg(1));
        Lease<Conn> held = p.acquire().join();
        List<Integer> order = new CopyOnWriteArrayList<>();
        List<CompletableFuture<Lease<Conn>>> waiting = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            int n = i;
            CompletableFuture<Lease<Conn>> f = p.acquire();
            f.thenAccept(l -> order.add(n));
            waiting.add(f);
        }
        assertThat(p.stats().pending()).isEqualTo(20);
        held.close();
        for (CompletableFuture<Lease<Conn>> f : waiting) {
            f.join().close();
        }
        assertThat(order).containsExactlyElementsOf(java.util.stream.IntStream.range(0, 20).boxed().toList());
        assertThat(p.stats().created()).isEqualTo(1);
    }

    @Test
    void newCallersQueueBehindWaitersInsteadOfBarging() {
        manager.capacity = 2;
        Pool<Conn> p = pool(cfg(1));
        Lease<Conn> a = p.acquire().join();
        Lease<Conn> b = p.acquire().join();
        CompletableFuture<Lease<Conn>> waiter = p.acquire();
        assertThat(waiter).isNotDone();
        // While someone waits, a non-waiting taker must not get the slot first.
        assertThat(p.tryAcquire()).isNull();
        CompletableFuture<Lease<Conn>> later = p.acquire();
        a.close();
        assertThat(waiter).isDone();
        assertThat(later).isNotDone();
        b.close();
        assertThat(later).isDone();
        waiter.join().close();
        later.join().close();
        assertExact(p);
    }

    @Test
    void waiterTimesOutWithTypedErrorNamingThePool() {
        Pool<Conn> p = pool(cfg(1).connectionTimeout(Duration.ofMillis(50)));
        Lease<Conn> held = p.acquire().join();
        CompletableFuture<Lease<Conn>> f = p.acquire();
        assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(PoolTimeoutException.class)
                .hasMessageContaining("pool 'test'").hasMessageContaining("maxConnections=1")
                .hasMessageContaining("waiting for a free slot");
        PoolStats s = p.stats();
        assertThat(s.timeouts()).isEqualTo(1);
        assertThat(s.pending()).isZero();
        held.close();
        assertThat(p.stats().idle()).isEqualTo(1);
        assertExact(p);
    }

    @Test
    void cancelledWaiterLeaksNothing() {
        Pool<Conn> p = pool(cfg(1));
        Lease<Conn> held = p.acquire().join();
        CompletableFuture<Lease<Conn>> f = p.acquire();
        assertThat(f.cancel(false)).isTrue();
        assertThat(p.stats().pending()).isZero();
        held.close();
        PoolStats s = p.stats();
        assertThat(s.leasesOut()).isZero();
        assertThat(s.idle()).isEqualTo(1);
        assertThat(s.cancelled()).isEqualTo(1);
        assertThatThrownBy(f::join).isInstanceOf(CancellationException.class);
    }

    @Test
    void cancellationRacingWithReleaseKeepsAccountingExact() throws Exception {
        Pool<Conn> p = pool(cfg(1).connectionTimeout(Duration.ofSeconds(30)));
        ExecutorService ex = Executors.newFixedThreadPool(2);
        try {
            for (int i = 0; i < 3000; i++) {
                Lease<Conn> held = p.acquire().get(5, TimeUnit.SECONDS);
                CompletableFuture<Lease<Conn>> waiter = p.acquire();
                CountDownLatch go = new CountDownLatch(1);
                CompletableFuture<?> r = CompletableFuture.runAsync(() -> { awaitLatch(go); held.close(); }, ex);
                CompletableFuture<?> c = CompletableFuture.runAsync(() -> { awaitLatch(go); waiter.cancel(false); }, ex);
                go.countDown();
                r.get(5, TimeUnit.SECONDS);
                c.get(5, TimeUnit.SECONDS);
                if (!waiter.isCancelled()) {
                    waiter.join().close(); // the delivery won: the caller owns the lease
                }
                PoolStats s = p.stats();
                assertThat(s.leasesOut()).as("iteration %d", i).isZero();
                assertThat(s.pending()).isZero();
                assertThat(s.idle()).isEqualTo(1);
            }
        } finally {
            ex.shutdownNow();
        }
    }

    @Test
    void timeoutRacingWithReleaseKeepsAccountingExact() throws Exception {
        Pool<Conn> p = pool(cfg(1).connectionTimeout(Duration.ofMillis(1)));
        // The 1 ms bound also cuts connect attempts: in a cold JVM the first connect can lose to it (the pool
        // retries it after a backoff). Open the one connection first; the race under test is timeout vs release.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (p.stats().open() == 0 && System.nanoTime() < deadline) {
            try {
                p.acquire().get(5, TimeUnit.SECONDS).close();
            } catch (ExecutionException e) {
                assertThat(e.getCause()).isInstanceOf(PoolTimeoutException.class);
            }
        }
        assertThat(p.stats().open()).isEqualTo(1);
        for (int i = 0; i < 2000; i++) {
            Lease<Conn> held = p.acquire().get(5, TimeUnit.SECONDS);
            CompletableFuture<Lease<Conn>> waiter = p.acquire();
            // The 1 ms timer and this release race on the scheduler thread and this one.
            held.close();
            try {
                waiter.get(5, TimeUnit.SECONDS).close();
            } catch (ExecutionException e) {
                assertThat(e.getCause()).isInstanceOf(PoolTimeoutException.class);
            }
            PoolStats s = p.stats();
            assertThat(s.leasesOut()).as("iteration %d", i).isZero();
            assertThat(s.pending()).isZero();
        }
        assertExact(p);
    }

    @Test
    void pastMaxPendingAcquireFailsAtOnce() {
        Pool<Conn> p = pool(cfg(1).maxPending(2));
        Lease<Conn> held = p.acquire().join();
        CompletableFuture<Lease<Conn>> w1 = p.acquire();
        CompletableFuture<Lease<Conn>> w2 = p.acquire();
        CompletableFuture<Lease<Conn>> w3 = p.acquire();
        assertThat(w3).isCompletedExceptionally();
        assertThatThrownBy(w3::join).cause().isInstanceOf(PoolExhaustedException.class)
                .hasMessageContaining("maxPending=2");
        assertThat(p.stats().exhausted()).isEqualTo(1);
        held.close();
        w1.join().close();
        w2.join().close();
        assertExact(p);
    }

    @Test
    void failedValidationClosesTheConnectionAndMovesOn() {
        Pool<Conn> p = pool(cfg(2).validationBypassWindow(Duration.ofMillis(500)));
        Lease<Conn> l = p.acquire().join();
        Conn stale = l.connection();
        l.close();
        ticker.advance(Duration.ofSeconds(1));
        manager.failValidation = true;
        Lease<Conn> next = p.acquire().join();
        assertThat(stale.validations.get()).isEqualTo(1);
        assertThat(stale.closes.get()).isEqualTo(1);
        assertThat(next.connection()).isNotSameAs(stale);
        next.close();
        assertThat(p.stats().closedByReason()).containsEntry(CloseReason.VALIDATION_FAILED, 1L);
        assertExact(p);
    }

    @Test
    void recentlyUsedConnectionIsNotValidated() {
        Pool<Conn> p = pool(cfg(1).validationBypassWindow(Duration.ofMillis(500)));
        Lease<Conn> l = p.acquire().join();
        l.close();
        ticker.advance(Duration.ofMillis(100));
        Lease<Conn> again = p.acquire().join();
        assertThat(again.connection().validations.get()).isZero();
        again.close();
    }

    @Test
    void anExclusiveConnectionBeingValidatedTakesNoNewLeases() {
        manager.holdValidations = true;
        Pool<Conn> p = pool(cfg(1).validationBypassWindow(Duration.ofMillis(500)));
        p.acquire().join().close();
        ticker.advance(Duration.ofSeconds(1));
        CompletableFuture<Lease<Conn>> first = p.acquire();
        assertThat(first).isNotDone();
        assertThat(p.tryAcquire()).as("probe in flight").isNull();
        CompletableFuture<Lease<Conn>> second = p.acquire();
        assertThat(second).isNotDone();
        manager.heldValidations.poll().complete(null);
        assertThat(first).isDone();
        assertThat(second).as("the only slot is the probed caller's").isNotDone();
        first.join().close();
        assertThat(second).isDone();
        second.join().close();
        assertThat(manager.connectAttempts.get()).isEqualTo(1);
        assertExact(p);
    }

    @Test
    void aMultiplexedConnectionFailingItsCheckDrainsUnderItsLeasesAndTheCheckedCallerMovesOn() {
        manager.capacity = 10;
        manager.holdValidations = true;
        Pool<Conn> p = pool(cfg(2).validationBypassWindow(Duration.ofMillis(500)));
        p.acquire().join().close();
        Conn stale = manager.opened.get(0);
        ticker.advance(Duration.ofSeconds(1));
        CompletableFuture<Lease<Conn>> checked = p.acquire();
        Lease<Conn> other = p.tryAcquire();
        assertThat(other).as("another slot of the connection under the check").isNotNull();
        manager.heldValidations.poll().completeExceptionally(new IOException("ping failed (fake)"));
        assertThat(stale.closes.get()).as("not closed under the lease taken during the check").isZero();
        assertThat(checked).isDone();
        assertThat(checked.join().connection()).isNotSameAs(stale);
        assertThat(p.tryAcquire()).as("no new lease on the draining connection")
                .satisfiesAnyOf(l -> assertThat(l).isNull(), l -> assertThat(l.connection()).isNotSameAs(stale));
        other.close();
        assertThat(stale.closes.get()).as("closed at its last release").isEqualTo(1);
        checked.join().close();
        assertThat(p.stats().closedByReason()).containsEntry(CloseReason.VALIDATION_FAILED, 1L);
        assertExact(p);
    }

    @Test
    void brokenConnectionIsDroppedOnRelease() {
        Pool<Conn> p = pool(cfg(1));
        Lease<Conn> l = p.acquire().join();
        l.connection().broken = true;
        l.close();
        assertThat(l.connection().closes.get()).isEqualTo(1);
        assertThat(p.stats().closedByReason()).containsEntry(CloseReason.BROKEN, 1L);
        assertThat(p.stats().open()).isZero();
    }

    @Test
    void connectFailureIsRetriedThreeTimesThenSurfacedWithCause() {
        manager.failAllConnects.set(true);
        Pool<Conn> p = pool(cfg(1).connectBackoff(Duration.ofMillis(1)).maxConnectBackoff(Duration.ofMillis(4)));
        CompletableFuture<Lease<Conn>> f = p.acquire();
        assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).cause()
                .isInstanceOf(ConnectFailedException.class)
                .hasMessageContaining("after 4 attempts")
                .hasCauseInstanceOf(IOException.class);
        assertThat(manager.connectAttempts.get()).isEqualTo(4);
        PoolStats s = p.stats();
        assertThat(s.failedConnects()).isEqualTo(4);
        assertThat(s.pending()).isZero();
        assertThat(s.connecting()).isZero();
        assertThat(s.open()).isZero();
    }

    static final class Rejected extends IOException implements RetryClassified {
        Rejected() {
            super("401 from upstream (fake)");
        }

        @Override
        public boolean retryable() {
            return false;
        }
    }

    @Test
    void aNonRetryableConnectFailureIsSurfacedAtOnce() {
        manager.failAllConnects.set(true);
        manager.connectError = () -> new java.util.concurrent.CompletionException(new Rejected());
        Pool<Conn> p = pool(cfg(1).connectBackoff(Duration.ofMillis(1)));
        CompletableFuture<Lease<Conn>> f = p.acquire();
        assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).cause()
                .isInstanceOf(ConnectFailedException.class).hasMessageContaining("after 1 attempt:")
                .hasCauseInstanceOf(Rejected.class);
        assertThat(manager.connectAttempts.get()).isEqualTo(1);
    }

    @Test
    void connectThatSucceedsOnARetryServesTheWaiter() throws Exception {
        manager.failNextConnects = 2;
        Pool<Conn> p = pool(cfg(1).connectBackoff(Duration.ofMillis(1)));
        Lease<Conn> l = p.acquire().get(5, TimeUnit.SECONDS);
        assertThat(manager.connectAttempts.get()).isEqualTo(3);
        assertThat(l.freshConnection()).isTrue();
        l.close();
        assertThat(p.stats().misses()).isEqualTo(1);
    }

    @Test
    void hungConnectAttemptIsBoundedByConnectionTimeout() {
        manager.holdConnects = true;
        Pool<Conn> p = pool(cfg(1).connectionTimeout(Duration.ofMillis(30)).maxRetries(0));
        CompletableFuture<Lease<Conn>> f = p.acquire();
        assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).cause().isInstanceOf(PoolException.class);
        await().atMost(Duration.ofSeconds(5)).until(() -> p.stats().connecting() == 0);
        // The pool's timer is the backstop over every manager: it cancels the attempt, so the manager can
        // close what it opened at once instead of at its own timeout.
        assertThat(manager.heldConnects.peek()).isNotNull();
        assertThat(manager.heldConnects.peek().isCancelled()).isTrue();
        // The connect completes late: it is closed, not pooled.
        manager.completeOneConnect();
        assertThat(manager.opened.get(0).closes.get()).isEqualTo(1);
        assertThat(p.stats().open()).isZero();
    }

    /**
     * One owner per timeout: a manager that bounds its own connects gets no attempt timer from the
     * pool. The caller's wait is still bounded by connectionTimeout; the attempt is neither cancelled
     * nor failed by the pool, and a connection it opens later is pooled.
     */
    @Test
    void aManagerThatBoundsItsConnectsIsNotTimedByThePool() throws Exception {
        manager.holdConnects = true;
        manager.boundsConnect = true;
        Pool<Conn> p = pool(cfg(1).connectionTimeout(Duration.ofMillis(30)).maxRetries(0));
        CompletableFuture<Lease<Conn>> f = p.acquire();
        assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).cause().isInstanceOf(PoolTimeoutException.class);
        // well past connectionTimeout, the attempt is still the manager's
        await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5))
                .until(() -> p.stats().connecting() == 1 && !manager.heldConnects.peek().isCancelled());
        assertThat(manager.connectAttempts.get()).isEqualTo(1);
        manager.completeOneConnect();
        await().atMost(Duration.ofSeconds(5)).until(() -> p.stats().idle() == 1);
        assertThat(manager.opened.get(0).closes.get()).isZero();
        p.acquire().get(5, TimeUnit.SECONDS).close();
    }

    @Test
    void spreadPutsNewStreamsOnTheLessLoadedOpenConnections() {
        // A server that serves each connection from one worker (nginx) only uses all its workers
        // when the streams are spread; packing put 256 streams on 3 of 14 open connections.
        manager.capacity = 100;
        Pool<Conn> p = pool(cfg(10).minIdle(4).streamPlacement(StreamPlacement.SPREAD));
        p.warmUp().join();
        List<Lease<Conn>> leases = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            leases.add(p.acquire().join());
        }
        java.util.Map<Conn, Long> perConnection = leases.stream().collect(java.util.stream.Collectors.groupingBy(
                Lease::connection, java.util.stream.Collectors.counting()));
        assertThat(perConnection).hasSize(4);
        assertThat(perConnection.values()).allSatisfy(n -> assertThat(n).isBetween(5L, 15L));
        assertThat(p.stats().created()).as("spreading opens no connection").isEqualTo(4);
        leases.forEach(Lease::close);
        assertThat(p.stats().leasesOut()).isZero();
        assertExact(p);
    }

    @Test
    void spreadStreamsOnEveryConnectionDoNotMakeTheTopUpOpenMore() {
        // minIdle keeps spare capacity warm. Streams spread over every connection leave none without a
        // lease; counted as "not idle", the top-up opened minIdle more each housekeeping pass, up to the
        // maximum (68 to 101 connections against nginx at 256 streams).
        manager.capacity = 100;
        Pool<Conn> p = pool(cfg(50).minIdle(4).streamPlacement(StreamPlacement.SPREAD));
        p.warmUp().join();
        List<Lease<Conn>> leases = new ArrayList<>();
        for (int round = 0; round < 5; round++) {
            for (int i = 0; i < 40; i++) {
                leases.add(p.acquire().join()); // spread: the connections the last top-up opened get streams too
            }
            p.runHousekeeping();
        }
        // 200 streams of 100 per connection: 2 connections' worth in use, and 4 connections' worth kept spare.
        assertThat(p.stats().created()).as("connections opened for 200 spread streams, minIdle 4").isBetween(6L, 7L);
        leases.forEach(Lease::close);
        assertExact(p);
    }

    @Test
    void aTargetOfStreamsPerConnectionOpensTheNextConnectionBeforeTheFirstIsFull() {
        // Envoy-style: a connection carries up to a target, then the pool opens another and fills that,
        // instead of putting 100 streams on one connection of a multi-worker server while nothing waits.
        manager.capacity = 100;
        Pool<Conn> p = pool(cfg(10).targetStreamsPerConnection(10));
        List<Lease<Conn>> leases = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            leases.add(p.acquire().join());
        }
        Conn first = leases.get(0).connection();
        assertThat(leases).extracting(Lease::connection).containsOnly(first);
        assertThat(p.stats().created()).isEqualTo(1);
        Lease<Conn> eleventh = p.acquire().getNow(null);
        assertThat(eleventh).as("above the target: served at once, not made to wait for a connect").isNotNull();
        assertThat(eleventh.connection()).isSameAs(first);
        assertThat(p.stats().created()).as("and a second connection opened for the next ones").isEqualTo(2);
        List<Lease<Conn>> next = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            next.add(p.acquire().join());
        }
        assertThat(next).extracting(Lease::connection).doesNotContain(first).containsOnly(next.get(0).connection());
        assertThat(p.stats().created()).isEqualTo(2);
        leases.forEach(Lease::close);
        eleventh.close();
        next.forEach(Lease::close);
        assertThat(p.stats().leasesOut()).isZero();
        assertExact(p);
    }

    @Test
    void aTargetNeverOpensMoreThanMaxConnectionsNorWhileConnectsFail() {
        manager.capacity = 100;
        Pool<Conn> p = pool(cfg(2).targetStreamsPerConnection(5));
        List<Lease<Conn>> leases = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            leases.add(p.acquire().join()); // 2 connections, then above the target on both, up to 100 each
        }
        assertThat(p.stats().created()).isEqualTo(2);
        assertThat(leases.stream().map(Lease::connection).distinct()).hasSize(2);
        leases.forEach(Lease::close);
        assertExact(p);
        Pool<Conn> q = pool(cfg(5).targetStreamsPerConnection(1));
        Lease<Conn> one = q.acquire().join();
        manager.failAllConnects.set(true);
        List<Lease<Conn>> more = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            more.add(q.acquire().join()); // above the target: the connects for more fail, the leases stand
        }
        assertThat(more).extracting(Lease::connection).containsOnly(one.connection());
        assertThat(q.stats().connecting()).as("one connect for the target at a time").isLessThanOrEqualTo(1);
        assertThat(q.stats().created()).isEqualTo(1);
        one.close();
        more.forEach(Lease::close);
        assertExact(q);
    }

    @Test
    @Timeout(10)
    void waitersServedAboveTheTargetStartOneConnectForTheNextOnes() {
        // Callers that queued while the first connection was connecting are all served on it when it opens,
        // three of them above the target: the next connection must be on its way, as it is when a caller who
        // did not wait goes above the target. One connect at a time: none more while it is in flight.
        manager.capacity = 100;
        manager.expectedCapacity = 100; // an HTTP/2 manager's guess: one connect for the whole burst
        manager.holdConnects = true;
        Pool<Conn> p = pool(cfg(10).targetStreamsPerConnection(2));
        List<CompletableFuture<Lease<Conn>>> waiting = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            waiting.add(p.acquire());
        }
        assertThat(manager.connectAttempts.get()).as("one connect for five waiters").isEqualTo(1);
        assertThat(manager.completeOneConnect()).isTrue();
        List<Lease<Conn>> leases = new ArrayList<>();
        waiting.forEach(f -> leases.add(f.join()));
        assertThat(leases).extracting(Lease::connection).containsOnly(leases.get(0).connection());
        assertThat(manager.connectAttempts.get()).as("a connect for the target after serving waiters above it")
                .isEqualTo(2);
        assertThat(p.stats().connecting()).isEqualTo(1);
        leases.add(p.acquire().join()); // above the target again, while the target's connect is in flight
        assertThat(manager.connectAttempts.get()).as("one target connect at a time").isEqualTo(2);
        assertThat(manager.completeOneConnect()).isTrue();
        Lease<Conn> next = p.acquire().join();
        assertThat(next.connection()).as("the next caller lands on the new connection")
                .isNotSameAs(leases.get(0).connection());
        next.close();
        leases.forEach(Lease::close);
        assertExact(p);
    }

    @Test
    @Timeout(10)
    void waitersServedAboveTheTargetOpenOneConnectionPerDrainNotOnePerWaiter() {
        // With connects that complete at once, a check per delivery would open a connection per waiter served
        // above the target (up to maxConnections); the check is once per drain pass.
        manager.capacity = 100;
        manager.expectedCapacity = 100;
        manager.holdConnects = true;
        Pool<Conn> p = pool(cfg(10).targetStreamsPerConnection(2));
        List<CompletableFuture<Lease<Conn>>> waiting = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            waiting.add(p.acquire());
        }
        manager.holdConnects = false; // the target's connect completes inside connect()
        assertThat(manager.completeOneConnect()).isTrue();
        List<Lease<Conn>> leases = new ArrayList<>();
        waiting.forEach(f -> leases.add(f.join()));
        assertThat(p.stats().created()).as("one connection for the target, not one per waiter above it")
                .isEqualTo(2);
        leases.forEach(Lease::close);
        assertExact(p);
    }

    @Test
    @Timeout(10)
    void racingCallersAboveTheTargetStartOneConnectBetweenThem() throws Exception {
        // Two callers go above the target at the same moment. The first is held (in the ticker the backoff check
        // reads) after it saw no connect in flight and before it reserved one; the second starts the target's
        // connect meanwhile. When the first goes on, it must not start a second one.
        manager.capacity = 100;
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicReference<Thread> holdOnce = new java.util.concurrent.atomic.AtomicReference<>();
        Ticker held = () -> {
            if (holdOnce.compareAndSet(Thread.currentThread(), null)) {
                entered.countDown();
                awaitLatch(go);
            }
            return ticker.nanoTime();
        };
        Pool<Conn> p = Pool.builder(manager).name("test").config(cfg(10).targetStreamsPerConnection(1).build())
                .ticker(held).scheduler(scheduler).periodicHousekeeping(false).build();
        pools.add(p);
        Lease<Conn> first = p.acquire().join(); // at the target
        manager.holdConnects = true;
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            CompletableFuture<Lease<Conn>> a = CompletableFuture.supplyAsync(() -> {
                holdOnce.set(Thread.currentThread());
                return p.acquire().join();
            }, other);
            assertThat(entered.await(5, TimeUnit.SECONDS)).as("the first caller reached the target check").isTrue();
            Lease<Conn> b = p.acquire().join(); // above the target: starts the connect
            assertThat(manager.connectAttempts.get()).isEqualTo(2);
            go.countDown();
            Lease<Conn> aLease = a.get(5, TimeUnit.SECONDS);
            assertThat(manager.connectAttempts.get()).as("connects started for the target by two racing callers")
                    .isEqualTo(2);
            assertThat(p.stats().connecting()).isEqualTo(1);
            aLease.close();
            b.close();
        } finally {
            go.countDown();
            other.shutdownNow();
        }
        first.close();
        while (manager.completeOneConnect()) {
            // let the held connects land so the pool closes cleanly
        }
    }

    @Test
    @Timeout(10)
    void tryAcquireDoesNotGoAboveTheTargetWhileAConnectionBelowItAwaitsItsProbe() {
        // tryAcquire cannot wait for a checkout probe, so it skips an idle connection past the bypass window. With
        // a target, that connection is below it: taking a slot above the target elsewhere instead would also
        // start a connect the pool does not need (an idle connection is there).
        manager.capacity = 100;
        Pool<Conn> p = pool(cfg(10).targetStreamsPerConnection(2).validationBypassWindow(Duration.ofMillis(500)));
        Lease<Conn> a = p.acquire().join();
        Lease<Conn> b = p.acquire().join();
        Lease<Conn> third = p.acquire().join(); // above the target: opens the second connection
        assertThat(p.stats().created()).isEqualTo(2);
        third.close();
        ticker.advance(Duration.ofSeconds(1)); // the second connection, never used, is now past the bypass window
        Lease<Conn> t = p.tryAcquire();
        try {
            assertThat(p.stats().created()).as("connections after tryAcquire with an idle one below the target")
                    .isEqualTo(2);
            assertThat(t).as("no slot above the target while a connection below it needs only its probe").isNull();
        } finally {
            if (t != null) {
                t.close();
            }
        }
        Lease<Conn> viaProbe = p.acquire().join();
        assertThat(viaProbe.connection()).as("acquire takes the idle one after its probe").isNotSameAs(a.connection());
        viaProbe.close();
        a.close();
        b.close();
        assertExact(p);
    }

    @Test
    void packPutsNewStreamsOnAsFewConnectionsAsPossible() {
        manager.capacity = 100;
        assertThat(PoolConfig.defaults().streamPlacement()).isEqualTo(StreamPlacement.PACK);
        Pool<Conn> p = pool(cfg(10).minIdle(4));
        p.warmUp().join();
        List<Lease<Conn>> leases = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            leases.add(p.acquire().join());
        }
        assertThat(leases).extracting(Lease::connection).containsOnly(leases.get(0).connection());
        leases.forEach(Lease::close);
        assertExact(p);
    }

    @Test
    void spreadSkipsFullAndDrainingConnectionsAndFillsTheRest() {
        manager.capacity = 10;
        Pool<Conn> p = pool(cfg(3).minIdle(3).streamPlacement(StreamPlacement.SPREAD));
        p.warmUp().join();
        List<Lease<Conn>> leases = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            leases.add(p.acquire().join());
        }
        // Every slot of every connection is taken exactly once: no connection over its capacity.
        java.util.Map<Conn, Long> perConnection = leases.stream().collect(java.util.stream.Collectors.groupingBy(
                Lease::connection, java.util.stream.Collectors.counting()));
        assertThat(perConnection.values()).containsOnly(10L);
        assertThat(p.tryAcquire()).isNull();
        leases.forEach(Lease::close);
        assertExact(p);
    }

    @Test
    void multiplexedEntryTakes100LeasesAndThe101stOpensASecondConnection() {
        manager.capacity = 100;
        Pool<Conn> p = pool(cfg(10));
        List<Lease<Conn>> leases = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            leases.add(p.acquire().join());
        }
        assertThat(leases).extracting(Lease::connection).containsOnly(leases.get(0).connection());
        assertThat(p.stats().created()).isEqualTo(1);
        Lease<Conn> extra = p.acquire().join();
        assertThat(extra.connection()).isNotSameAs(leases.get(0).connection());
        assertThat(p.stats().created()).isEqualTo(2);
        assertThat(p.stats().leasesOut()).isEqualTo(101);
        leases.forEach(Lease::close);
        extra.close();
        assertThat(p.stats().leasesOut()).isZero();
        assertExact(p);
    }

    @Test
    void connectsInProgressCountAsTheirExpectedCapacity() {
        manager.capacity = 100;
        Pool<Conn> p = pool(cfg(10));
        p.acquire().join().close(); // learn that connections carry 100 streams
        List<Lease<Conn>> leases = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            leases.add(p.acquire().join());
        }
        manager.holdConnects = true;
        List<CompletableFuture<Lease<Conn>>> burst = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            burst.add(p.acquire());
        }
        assertThat(manager.heldConnects).as("one connect covers 60 waiters").hasSize(1);
        manager.completeOneConnect();
        burst.forEach(f -> f.join().close());
        leases.forEach(Lease::close);
        assertThat(p.stats().created()).isEqualTo(2);
    }

    @Test
    void theManagersCapacityGuessSizesTheFirstBurst() {
        FakeConnectionManager guessing = new FakeConnectionManager() {
            @Override
            public int expectedCapacity() {
                return 100;
            }
        };
        guessing.capacity = 100;
        guessing.holdConnects = true;
        Pool<Conn> p = Pool.builder(guessing).name("guess").config(cfg(10).build()).ticker(ticker)
                .scheduler(scheduler).periodicHousekeeping(false).build();
        pools.add(p);
        List<CompletableFuture<Lease<Conn>>> burst = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            burst.add(p.acquire());
        }
        assertThat(guessing.heldConnects).as("one HTTP/2-like connection covers the burst").hasSize(1);
        guessing.completeOneConnect();
        burst.forEach(f -> f.join().close());
        assertThat(p.stats().created()).isEqualTo(1);
    }

    @Test
    void aWrongCapacityGuessIsCorrectedByTheFirstConnection() {
        FakeConnectionManager guessing = new FakeConnectionManager() {
            @Override
            public int expectedCapacity() {
                return 100;
            }
        };
        guessing.holdConnects = true; // the server turns out to speak HTTP/1.1: capacity 1
        Pool<Conn> p = Pool.builder(guessing).name("guess").config(cfg(10).build()).ticker(ticker)
                .scheduler(scheduler).periodicHousekeeping(false).build();
        pools.add(p);
        List<CompletableFuture<Lease<Conn>>> burst = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            burst.add(p.acquire());
        }
        assertThat(guessing.heldConnects).hasSize(1);
        guessing.completeOneConnect();
        assertThat(guessing.heldConnects).as("the remaining 4 waiters get connects of their own").hasSize(4);
        while (guessing.completeOneConnect()) {
            // open them all
        }
        burst.forEach(f -> f.join().close());
        assertThat(p.stats().created()).isEqualTo(5);
    }

    @Test
    void loweringCapacityWhileLeasedStopsNewLeasesUntilBelowIt() {
        manager.capacity = 10;
        Pool<Conn> p = pool(cfg(1));
        List<Lease<Conn>> leases = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            leases.add(p.acquire().join());
        }
        Conn c = leases.get(0).connection();
        c.capacity = 5;
        manager.changed(c);
        for (int i = 0; i < 5; i++) {
            leases.remove(0).close();
        }
        assertThat(p.tryAcquire()).as("5 of 5 in use").isNull();
        leases.remove(0).close();
        Lease<Conn> l = p.tryAcquire();
        assertThat(l).isNotNull();
        l.close();
        leases.forEach(Lease::close);
        assertThat(p.stats().leasesOut()).isZero();
    }

    @Test
    void raisingCapacityServesWaitersAtOnce() {
        manager.capacity = 1;
        Pool<Conn> p = pool(cfg(1));
        Lease<Conn> held = p.acquire().join();
        CompletableFuture<Lease<Conn>> w = p.acquire();
        assertThat(w).isNotDone();
        held.connection().capacity = 2;
        manager.changed(held.connection());
        assertThat(w).isDone();
        w.join().close();
        held.close();
    }

    @Test
    void shrinkingWhileLeasedDrainsSurplusConnections() {
        Pool<Conn> p = pool(cfg(4));
        List<Lease<Conn>> leases = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            leases.add(p.acquire().join());
        }
        p.setMaxConnections(2);
        PoolStats s = p.stats();
        assertThat(s.draining()).isEqualTo(2);
        assertThat(s.maxConnections()).isEqualTo(2);
        leases.forEach(Lease::close);
        s = p.stats();
        assertThat(s.open()).isEqualTo(2);
        assertThat(s.closedByReason()).containsEntry(CloseReason.SHRINK, 2L);
        assertThat(manager.openNow.get()).isEqualTo(2);
        assertExact(p);
    }

    @Test
    void growingServesWaiters() {
        Pool<Conn> p = pool(cfg(1));
        Lease<Conn> held = p.acquire().join();
        CompletableFuture<Lease<Conn>> w = p.acquire();
        assertThat(w).isNotDone();
        p.setMaxConnections(2);
        assertThat(w).isDone();
        w.join().close();
        held.close();
        assertThat(p.stats().open()).isEqualTo(2);
    }

    @Test
    void growingTopsUpMinIdleTheOldLimitClipped() {
        Pool<Conn> p = pool(cfg(6).minIdle(6));
        p.warmUp().join();
        p.setMaxConnections(2);
        assertThat(p.stats().open()).isEqualTo(2);
        p.setMaxConnections(5);
        p.warmUp().join();
        assertThat(p.stats().open()).as("opened by the resize, no housekeeping ran").isEqualTo(5);
        assertThat(manager.openNow.get()).isEqualTo(5);
        assertExact(p);
    }

    @Test
    void raisingMinIdleOpensTheMissingConnectionsAtOnceAndLoweringLetsThemIdleOut() {
        Pool<Conn> p = pool(cfg(10).minIdle(0).idleTimeout(Duration.ofSeconds(90)));
        assertThat(p.stats().open()).isZero();
        p.setMinIdle(4);
        p.warmUp().join();
        assertThat(p.stats().open()).isEqualTo(4);
        p.setMinIdle(20);
        p.warmUp().join();
        assertThat(p.stats().open()).as("never above maxConnections").isEqualTo(10);
        p.setMinIdle(3);
        ticker.advance(Duration.ofSeconds(91));
        p.runHousekeeping();
        assertThat(p.stats().open()).isEqualTo(3);
        assertThat(p.minIdle()).isEqualTo(3);
        assertThatThrownBy(() -> p.setMinIdle(-1)).isInstanceOf(IllegalArgumentException.class);
        assertExact(p);
    }

    @Test
    void aColdBurstHasAtMostMaxConnectingConnectsInFlight() {
        manager.holdConnects = true;
        Pool<Conn> p = pool(cfg(10).maxConnecting(3));
        List<CompletableFuture<Lease<Conn>>> waiting = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            waiting.add(p.acquire());
        }
        assertThat(manager.heldConnects).hasSize(3);
        assertThat(p.stats().connecting()).isEqualTo(3);
        int served = 0;
        while (manager.completeOneConnect()) {
            assertThat(manager.heldConnects.size()).as("connects in flight").isLessThanOrEqualTo(3);
            served++;
        }
        assertThat(served).isEqualTo(10);
        assertThat(waiting).allSatisfy(f -> assertThat(f).isCompleted());
        assertThat(manager.connectAttempts.get()).isEqualTo(10);
        waiting.forEach(f -> f.join().close());
        assertExact(p);
    }

    @Test
    void preWarmBeyondMaxConnectingGoesOnAsConnectsOpenWithoutWaitingForHousekeeping() {
        manager.holdConnects = true;
        Pool<Conn> p = pool(cfg(10).minIdle(8).maxConnecting(2));
        CompletableFuture<Void> warm = p.warmUp();
        assertThat(manager.heldConnects).hasSize(2);
        while (manager.completeOneConnect()) {
            assertThat(manager.heldConnects.size()).isLessThanOrEqualTo(2);
        }
        assertThat(p.stats().open()).isEqualTo(8);
        assertThat(manager.connectAttempts.get()).isEqualTo(8);
        assertThat(warm).succeedsWithin(Duration.ofSeconds(5));
        assertExact(p);
    }

    @Test
    void preWarmAgainstAFailingUpstreamEndsInsteadOfWaitingForever() {
        manager.failAllConnects.set(true);
        Pool<Conn> p = pool(cfg(10).minIdle(6).maxConnecting(2).maxRetries(0));
        assertThat(p.warmUp()).succeedsWithin(Duration.ofSeconds(5));
        assertThat(p.stats().connecting()).isZero();
        assertThat(p.stats().open()).isZero();
        assertExact(p);
    }

    @Test
    void housekeepingRacingARaisedMinIdleOpensTheMissingConnectionsOnce() throws Exception {
        for (int round = 0; round < 100; round++) {
            FakeConnectionManager m = new FakeConnectionManager();
            m.holdConnects = true;
            Pool<Conn> p = Pool.builder(m).name("race").config(cfg(500).minIdle(0).maxConnecting(500).build())
                    .ticker(ticker).scheduler(scheduler).periodicHousekeeping(false).build();
            java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
            Thread other = new Thread(() -> {
                try {
                    start.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                for (int i = 0; i < 20; i++) {
                    p.runHousekeeping(); // tops up to minIdle too, racing the resize below
                }
            });
            other.start();
            start.await();
            p.setMinIdle(200);
            other.join();
            assertThat(m.heldConnects).as("connects started in round %d", round).hasSize(200);
            p.close();
        }
    }

    @Test
    void expiredConnectionsRetireAndMultiplexedOnesDrainFirst() {
        manager.capacity = 10;
        Pool<Conn> p = pool(cfg(2).maxLifetime(Duration.ofSeconds(10)));
        Lease<Conn> busy = p.acquire().join();
        ticker.advance(Duration.ofSeconds(11));
        p.runHousekeeping();
        PoolStats s = p.stats();
        assertThat(s.draining()).isEqualTo(1);
        assertThat(busy.connection().closes.get()).as("still serving its stream").isZero();
        Lease<Conn> other = p.acquire().join();
        assertThat(other.connection()).as("a draining connection takes no new leases").isNotSameAs(busy.connection());
        busy.close();
        assertThat(busy.connection().closes.get()).isEqualTo(1);
        assertThat(p.stats().closedByReason()).containsEntry(CloseReason.LIFETIME, 1L);
        other.close();
        assertExact(p);
    }

    @Test
    void lifetimeJitterShortensDeadlinesWithinTheFraction() {
        Pool<Conn> p = pool(cfg(50).minIdle(50).maxLifetime(Duration.ofSeconds(100)).lifetimeJitter(0.25)
                .idleTimeout(Duration.ofHours(1)));
        p.warmUp().join();
        ticker.advance(Duration.ofSeconds(74));
        p.runHousekeeping();
        assertThat(p.stats().closedByReason().get(CloseReason.LIFETIME)).as("none before 75 %").isZero();
        ticker.advance(Duration.ofSeconds(25));
        p.runHousekeeping();
        long retired = p.stats().closedByReason().get(CloseReason.LIFETIME);
        assertThat(retired).as("jitter spread deadlines over [75 s, 100 s)").isBetween(1L, 50L);
        ticker.advance(Duration.ofSeconds(2));
        p.runHousekeeping();
        assertThat(p.stats().closedByReason().get(CloseReason.LIFETIME)).isGreaterThanOrEqualTo(50L);
    }

    @Test
    void idleEvictionNeverGoesBelowMinIdleAndReplenishes() {
        Pool<Conn> p = pool(cfg(10).minIdle(2).idleTimeout(Duration.ofSeconds(90)));
        p.warmUp().join();
        List<Lease<Conn>> leases = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            leases.add(p.acquire().join());
        }
        leases.forEach(Lease::close);
        assertThat(p.stats().idle()).isEqualTo(5);
        ticker.advance(Duration.ofSeconds(91));
        p.runHousekeeping();
        PoolStats s = p.stats();
        assertThat(s.idle()).isEqualTo(2);
        assertThat(s.closedByReason()).containsEntry(CloseReason.IDLE, 3L);
        // An idle connection lost to the peer is replaced to keep minIdle warm.
        p.tryAcquire().invalidate();
        assertThat(p.stats().idle() + p.stats().connecting()).isEqualTo(2);
    }

    @Test
    void closeNowFailsWaitersClosesConnectionsAndRejectsLaterAcquires() {
        Pool<Conn> p = pool(cfg(1));
        Lease<Conn> held = p.acquire().join();
        CompletableFuture<Lease<Conn>> w = p.acquire();
        p.closeNow();
        assertThatThrownBy(w::join).cause().isInstanceOf(PoolClosedException.class);
        assertThat(held.connection().closes.get()).isEqualTo(1);
        held.close();
        assertThatThrownBy(() -> p.acquire().join()).cause().isInstanceOf(PoolClosedException.class);
        assertThatThrownBy(p::tryAcquire).isInstanceOf(PoolClosedException.class);
        assertThat(p.stats().open()).isZero();
        assertThat(manager.openNow.get()).isZero();
    }

    @Test
    @Timeout(10)
    void closeLetsLeasedConnectionsFinishAndClosesThemOnRelease() {
        Pool<Conn> p = pool(cfg(3));
        Lease<Conn> held = p.acquire().join();
        Lease<Conn> second = p.acquire().join();
        Lease<Conn> third = p.acquire().join();
        Conn idle = third.connection();
        third.close();
        p.close();
        assertThat(idle.closes.get()).as("an idle connection closes at once").isEqualTo(1);
        assertThat(held.connection().closes.get()).as("a leased connection finishes its work").isZero();
        assertThat(second.connection().closes.get()).isZero();
        assertThatThrownBy(() -> p.acquire().join()).cause().isInstanceOf(PoolClosedException.class);
        held.close();
        assertThat(held.connection().closes.get()).as("closed on its release").isEqualTo(1);
        second.close();
        assertThat(second.connection().closes.get()).isEqualTo(1);
        assertThat(p.stats().open()).isZero();
        assertThat(manager.openNow.get()).isZero();
    }

    @Test
    @Timeout(10)
    void closeFailsWaitersAndClosesLeasedConnectionsWhenTheGracePeriodEnds() {
        Pool<Conn> p = pool(cfg(1).closeGracePeriod(Duration.ofMillis(50)));
        Lease<Conn> held = p.acquire().join();
        CompletableFuture<Lease<Conn>> w = p.acquire();
        p.close();
        assertThatThrownBy(w::join).cause().isInstanceOf(PoolClosedException.class);
        assertThat(held.connection().closes.get()).isZero();
        await().atMost(Duration.ofSeconds(5)).until(() -> held.connection().closes.get() == 1);
        held.close();
        assertThat(held.connection().closes.get()).as("closed once").isEqualTo(1);
        assertThat(p.stats().open()).isZero();
        assertThat(p.stats().closedByReason()).containsEntry(CloseReason.POOL_CLOSED, 1L);
    }

    @Test
    @Timeout(10)
    void closeNowAfterCloseCutsTheGracePeriodShort() {
        Pool<Conn> p = pool(cfg(1));
        Lease<Conn> held = p.acquire().join();
        p.close();
        assertThat(held.connection().closes.get()).isZero();
        p.closeNow();
        assertThat(held.connection().closes.get()).isEqualTo(1);
        held.close();
        assertThat(p.stats().open()).isZero();
    }

    /**
     * A manager that bounds its own connects (the HTTP client's) gets no attempt timer from the pool, and its
     * connect may never complete once its transport is shut down (a dial registered on an event loop that
     * terminated next, its deadline timer dropped with the client's scheduler). The close must end that
     * connect itself: before, the entry stayed CONNECTING and the manager's stage pending for ever.
     */
    @Test
    @Timeout(10)
    void closeNowEndsAConnectInFlightThatWouldNeverComplete() {
        manager.holdConnects = true;
        manager.boundsConnect = true;
        Pool<Conn> p = pool(cfg(1).maxRetries(0));
        CompletableFuture<Lease<Conn>> w = p.acquire();
        assertThat(manager.heldConnects).hasSize(1);
        CompletableFuture<Conn> connect = manager.heldConnects.peek();
        p.closeNow();
        assertThatThrownBy(w::join).cause().isInstanceOf(PoolClosedException.class);
        assertThat(p.stats().connecting()).as("the connect in flight ended with the close").isZero();
        assertThat(connect.isCancelled()).as("the manager is told, so it can close what it was opening").isTrue();
        assertThat(p.stats().failedConnects()).as("given up by the close, not failed").isZero();
        manager.completeOneConnect(); // a connection that still arrives is closed, not pooled
        assertThat(manager.opened.get(0).closes.get()).isEqualTo(1);
        assertThat(p.stats().open()).isZero();
        assertThat(manager.openNow.get()).isZero();
    }

    @Test
    @Timeout(10)
    void gracefulCloseEndsAConnectInFlightToo() {
        manager.holdConnects = true;
        manager.boundsConnect = true;
        Pool<Conn> p = pool(cfg(2).maxRetries(0));
        Lease<Conn> held;
        CompletableFuture<Lease<Conn>> first = p.acquire();
        manager.completeOneConnect();
        held = first.join();
        CompletableFuture<Lease<Conn>> w = p.acquire();
        assertThat(manager.heldConnects).hasSize(1);
        p.close();
        assertThatThrownBy(w::join).cause().isInstanceOf(PoolClosedException.class);
        assertThat(p.stats().connecting()).isZero();
        assertThat(manager.heldConnects.peek().isCancelled()).isTrue();
        assertThat(held.connection().closes.get()).as("a leased connection still finishes its work").isZero();
        held.close();
        assertThat(held.connection().closes.get()).isEqualTo(1);
        assertThat(p.stats().open()).isZero();
    }

    /** The close sweeps the connects in flight; one whose manager is still being asked ends when connect() returns. */
    @Test
    @Timeout(10)
    void aConnectTheCloseOvertakesInsideTheManagerEndsWhenConnectReturns() {
        manager.holdConnects = true;
        manager.boundsConnect = true;
        Pool<Conn> p = pool(cfg(1).maxRetries(0));
        manager.duringConnect = p::closeNow;
        CompletableFuture<Lease<Conn>> w = p.acquire();
        assertThatThrownBy(w::join).cause().isInstanceOf(PoolClosedException.class);
        assertThat(manager.connectAttempts.get()).isEqualTo(1);
        assertThat(p.stats().connecting()).isZero();
        assertThat(manager.heldConnects.peek().isCancelled()).isTrue();
    }

    /**
     * A connect waiting out its retry delay is a connect in flight too: a scheduler shut down by its owner
     * right after the close (the HTTP client's) drops the retry, and the entry stayed CONNECTING for ever.
     */
    @Test
    @Timeout(10)
    void closeEndsAConnectWaitingToBeRetried() {
        manager.failNextConnects = 1;
        Pool<Conn> p = pool(cfg(1).maxRetries(3).connectBackoff(Duration.ofSeconds(30))
                .maxConnectBackoff(Duration.ofSeconds(30)));
        CompletableFuture<Lease<Conn>> w = p.acquire();
        await().atMost(Duration.ofSeconds(5)).until(() -> p.stats().failedConnects() == 1);
        assertThat(p.stats().connecting()).as("the retry waits").isEqualTo(1);
        p.closeNow();
        scheduler.shutdownNow(); // what the client's close does next: the retry task is dropped
        assertThatThrownBy(w::join).cause().isInstanceOf(PoolClosedException.class);
        assertThat(p.stats().connecting()).isZero();
        assertThat(manager.connectAttempts.get()).as("no retry after the close").isEqualTo(1);
    }

    @Test
    @Timeout(10)
    void anExceptionWhileMatchingWaitersLosesNeitherAFulfilledWaiterNorItsSlot() {
        Pool<Conn> p = pool(cfg(2).minIdle(2).maxRetries(0));
        p.warmUp().join();
        Lease<Conn> l1 = p.acquire().join();
        Conn a = l1.connection();
        Conn b = manager.opened.get(1);
        assertThat(a).isSameAs(manager.opened.get(0));
        b.capacity = 0; // the second connection takes no lease for now
        CompletableFuture<Lease<Conn>> w1 = p.acquire();
        CompletableFuture<Lease<Conn>> w2 = p.acquire();
        assertThat(w1).isNotDone();
        // While matching w2, after w1 got a's slot, b is found broken; its replacement's connect() answers null.
        b.broken = true;
        manager.connectReturnsNull = true;
        l1.close();
        assertThat(w1).as("the waiter matched before the failure").isDone();
        Lease<Conn> first = w1.join();
        assertThat(first.connection()).isSameAs(a);
        first.close();
        assertThat(w2).as("the slot came back and went on to the next waiter").isDone();
        w2.join().close();
        PoolStats s = p.stats();
        assertThat(s.connecting()).as("no connect reservation leaked").isZero();
        assertThat(s.leasesOut()).isZero();
        assertExact(p);
    }

    @Test
    @Timeout(10)
    void aConnectThatThrowsACheckedExceptionFailsTheWaiterInsteadOfWedgingThePool() throws Exception {
        manager.connectThrows = new IOException("thrown, not returned (fake)");
        Pool<Conn> p = pool(cfg(1).maxRetries(0));
        CompletableFuture<Lease<Conn>> f = p.acquire();
        assertThatThrownBy(f::join).cause().isInstanceOf(ConnectFailedException.class)
                .hasCauseInstanceOf(IOException.class);
        manager.connectThrows = null;
        ticker.advance(Duration.ofSeconds(1)); // past the backoff after a failed connect
        p.runHousekeeping();
        Lease<Conn> l = p.acquire().get(5, TimeUnit.SECONDS);
        l.close();
        assertThat(p.stats().connecting()).isZero();
    }

    @Test
    @Timeout(10)
    void aBurstAfterAnIdleGapKeepsUsingTheMultiplexedConnectionWhileItIsChecked() {
        manager.capacity = 100;
        manager.holdValidations = true;
        Pool<Conn> p = pool(cfg(10).validationBypassWindow(Duration.ofMillis(500)));
        p.acquire().join().close();
        ticker.advance(Duration.ofSeconds(1)); // past the bypass window
        List<CompletableFuture<Lease<Conn>>> burst = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            burst.add(p.acquire());
        }
        assertThat(manager.connectAttempts.get()).as("no new connection for a burst that fits").isEqualTo(1);
        assertThat(burst.stream().filter(CompletableFuture::isDone).count())
                .as("the other slots keep serving during the check").isEqualTo(99);
        assertThat(manager.heldValidations).as("one check").hasSize(1);
        manager.heldValidations.poll().complete(null);
        assertThat(burst).allMatch(CompletableFuture::isDone);
        assertThat(burst).allMatch(f -> f.join().connection() == manager.opened.get(0));
        burst.forEach(f -> f.join().close());
        assertExact(p);
    }

    @Test
    void releaseDoesNotRunAChainOfOtherCallersContinuations() throws Exception {
        Pool<Conn> p = Pool.builder(manager).name("chain").config(cfg(1).build()).ticker(ticker).scheduler(scheduler)
                .periodicHousekeeping(false).completionExecutor(Executors.newSingleThreadExecutor()).build();
        pools.add(p);
        Lease<Conn> held = p.acquire().join();
        Thread main = Thread.currentThread();
        AtomicInteger onMain = new AtomicInteger();
        List<CompletableFuture<Void>> chain = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            chain.add(p.acquire().thenAccept(l -> {
                if (Thread.currentThread() == main) {
                    onMain.incrementAndGet();
                }
                l.close(); // hands the slot to the next waiter
            }));
        }
        held.close();
        CompletableFuture.allOf(chain.toArray(new CompletableFuture[0])).get(10, TimeUnit.SECONDS);
        assertThat(onMain.get()).as("continuations run by the releasing thread").isLessThanOrEqualTo(1);
        assertThat(p.stats().leasesOut()).isZero();
    }

    @Test
    void statsCountHitsMissesAndWaitPercentiles() {
        manager.holdConnects = true;
        Pool<Conn> p = pool(cfg(1));
        CompletableFuture<Lease<Conn>> f = p.acquire();
        manager.completeOneConnect();
        Lease<Conn> l = f.join();
        assertThat(l.freshConnection()).isTrue();
        l.close();
        for (int i = 0; i < 9; i++) {
            p.acquire().join().close();
        }
        PoolStats s = p.stats();
        assertThat(s.acquisitions()).isEqualTo(10);
        assertThat(s.misses()).isEqualTo(1);
        assertThat(s.hits()).isEqualTo(9);
        assertThat(s.hitRate()).isEqualTo(0.9);
        assertThat(s.waitMaxNanos()).isPositive();
        assertThat(s.waitP50Nanos()).isZero();
        WaitHistogram waits = p.acquireWaits();
        assertThat(waits.count()).isEqualTo(10);
        assertThat(waits.countsByNanos().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(10);
        assertThat(waits.countsByNanos().get(0L)).as("nine hits waited 0 ns").isEqualTo(9);
        assertThat(waits.maxNanos()).isEqualTo(s.waitMaxNanos());
    }

    @Test
    void leakedLeaseIsReportedAndItsSlotReturnedWhenCollected() {
        Pool<Conn> p = pool(cfg(1).leakDetectionThreshold(Duration.ofMillis(10)));
        leakOne(p);
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            System.gc();
            return p.stats().leasesOut() == 0;
        });
        Lease<Conn> l = p.tryAcquire();
        assertThat(l).isNotNull();
        l.close();
    }

    private static void leakOne(Pool<Conn> p) {
        p.acquire().join(); // never closed
    }

    private static void awaitLatch(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

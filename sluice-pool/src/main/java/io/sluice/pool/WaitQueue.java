package io.sluice.pool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The callers waiting for a slot, and the one drain loop that serves them: the FIFO queue of
 * {@link Waiter}s (at most {@code maxPending}), their {@code connectionTimeout} timers, the
 * loop that matches the oldest waiter with a free slot and asks the {@link Connector} for
 * connects for unmet demand, the hand-over after the loop (with the checkout validation of
 * connections idle past the bypass window), and failing waiters at close or give-up.
 *
 * <p><b>State and owners:</b> {@link #pending} counts waiters in state PENDING and is changed by
 * whoever moves one into or out of PENDING (by the waiter's own CAS); {@link #wip} is the drain
 * loop's work-in-progress counter (the thread that moves it from 0 runs the loop); the queue
 * itself is a lock-free {@link ConcurrentLinkedQueue}.
 *
 * <p><b>Thread-safety:</b> thread-safe; no lock. Futures are completed after the loop, never
 * inside it, and a thread already inside a completion hands further completions to the
 * completion executor, so one release never runs an unbounded chain of other callers' work.
 */
final class WaitQueue<C> {

    private static final Logger LOG = LoggerFactory.getLogger(Pool.class);
    private static final VarHandle WIP;
    private static final ThreadLocal<int[]> COMPLETING = ThreadLocal.withInitial(() -> new int[1]);

    static {
        try {
            WIP = MethodHandles.lookup().findVarHandle(WaitQueue.class, "wip", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Pool<C> pool;
    private final Executor completionExecutor;
    private final long connectionTimeoutNanos;
    private final ConcurrentLinkedQueue<Waiter<C>> waiters = new ConcurrentLinkedQueue<>();
    /** Waiters in state PENDING; changed by whoever moves one into or out of PENDING. */
    private final AtomicInteger pending = new AtomicInteger();
    /** The drain loop's work-in-progress count; only through {@link #WIP}. */
    private volatile int wip;
    /**
     * Whether the current pass of the drain loop handed a waiter a slot above the pool's target of streams per
     * connection. Read and written only by the thread running the loop (the {@link #WIP} counter orders passes).
     */
    private boolean servedAboveTarget;

    WaitQueue(Pool<C> pool, Executor completionExecutor) {
        this.pool = pool;
        this.completionExecutor = completionExecutor;
        this.connectionTimeoutNanos = pool.config.connectionTimeout().toNanos();
    }

    int pending() {
        return pending.get();
    }

    /** Queues a new PENDING waiter (or fails it at once past maxPending) and runs the drain loop. */
    CompletableFuture<Lease<C>> enqueue(Waiter<C> w) {
        int max = pool.config.maxPending();
        if (pending.incrementAndGet() > max) {
            pending.decrementAndGet();
            pool.counters.exhausted.increment();
            return CompletableFuture.failedFuture(new PoolExhaustedException(pool.name, max, pool.maxConnections));
        }
        waiters.offer(w);
        if ((!armTimer(w) || pool.closed) && w.tryCancel()) {
            gaveUp(w, true);
            w.fail(new PoolClosedException(pool.name));
        }
        drain();
        return w;
    }

    /** Arms the waiter's connectionTimeout timer; false when the pool is shutting down. */
    private boolean armTimer(Waiter<C> w) {
        long remaining = connectionTimeoutNanos - (System.nanoTime() - w.startNanos);
        ScheduledFuture<?> t = pool.schedule(() -> timeOut(w), remaining);
        if (t == null) {
            return false;
        }
        w.timer = t;
        if (!w.isPending()) {
            w.cancelTimer(); // served before the timer was set
        }
        return true;
    }

    private void timeOut(Waiter<C> w) {
        if (!w.tryCancel()) {
            return;
        }
        pending.decrementAndGet();
        pool.counters.timeouts.increment();
        long waited = System.nanoTime() - w.startNanos;
        w.fail(new PoolTimeoutException(pool.name, Duration.ofNanos(waited), describeForTimeout(),
                pool.connector.backoff.lastFailure()));
        waiters.remove(w);
        drain();
    }

    private String describeForTimeout() {
        EntryTable.Census n = pool.table.census();
        return "waiting for a free slot; maxConnections=" + pool.maxConnections + ", open=" + n.connections()
                + ", connecting=" + pool.connector.connecting() + ", leasesOut=" + n.leases() + ", waiting="
                + pending.get();
    }

    /** Called for a waiter that left PENDING on its caller's behalf (cancel, external completion) or at close. */
    void gaveUp(Waiter<C> w, boolean byClose) {
        pending.decrementAndGet();
        if (!byClose) {
            pool.counters.cancelled.increment();
        }
        w.cancelTimer();
        waiters.remove(w);
        drain();
    }

    // ------------------------------------------------------------------ drain loop

    /** A slot chosen for a waiter inside the drain loop and handed over after it (after {@code probe}, unless null). */
    private record Handoff<C>(Waiter<C> waiter, PoolEntry<C> entry, CompletionStage<Void> probe) {
    }

    /**
     * Matches waiters with free slots in FIFO order and starts connects for unmet demand.
     * Only one thread runs the loop at a time; others just bump {@link #wip} so the
     * running thread goes round once more.
     */
    void drain() {
        if ((int) WIP.getAndAdd(this, 1) != 0) {
            return;
        }
        List<Handoff<C>> handoffs = null;
        List<Waiter<C>> doomed = null;
        int missed = 1;
        for (;;) {
            // Neither half throws: each keeps what it decided so far if a manager callback fails under it,
            // so no waiter it fulfilled (and no slot it took for one) is lost, and wip always goes back down.
            handoffs = matchWaiters(handoffs);
            if (!pool.closed) {
                doomed = pool.connector.connectForDemand(pending.get(), doomed);
                if (servedAboveTarget) {
                    // Once per pass, not per waiter: with connects that complete at once, a check per delivery
                    // opened one connection per waiter served above the target, up to maxConnections.
                    pool.connector.connectForTarget();
                }
            }
            servedAboveTarget = false;
            missed = (int) WIP.getAndAdd(this, -missed) - missed;
            if (missed == 0) {
                break;
            }
        }
        if (handoffs != null) {
            complete(handoffs);
        }
        if (doomed != null) {
            ConnectFailedException error = pool.connector.backoffFailure();
            for (Waiter<C> w : doomed) {
                w.fail(error);
            }
        }
    }

    /** The matching half of the drain loop: oldest waiter first, while free slots last. */
    private List<Handoff<C>> matchWaiters(List<Handoff<C>> handoffs) {
        try {
            for (;;) {
                Waiter<C> w = waiters.peek();
                if (w == null) {
                    break;
                }
                if (!w.isPending()) {
                    waiters.remove(w);
                    continue;
                }
                Object slot = pool.closed ? null : pool.table.findSlot(true);
                if (slot == null) {
                    break;
                }
                boolean validate = slot instanceof EntryTable.Probe<?>;
                @SuppressWarnings("unchecked")
                PoolEntry<C> e = validate ? ((EntryTable.Probe<C>) slot).entry() : (PoolEntry<C>) slot;
                if (!w.tryFulfill()) {
                    // Cancelled or timed out between peek and here: give the slot back and go on.
                    if (validate) {
                        e.clearValidating();
                    }
                    pool.returnSlot(e);
                    continue;
                }
                if (!validate && pool.table.aboveTarget(e)) {
                    servedAboveTarget = true; // every connection was at the target: open the next one (drain())
                }
                if (handoffs == null) {
                    handoffs = new ArrayList<>(4);
                }
                // The probe starts now, so a multiplexed entry's other slots serve the next waiters of this loop;
                // its outcome is awaited after the loop, where the caller's future may complete.
                handoffs.add(new Handoff<>(w, e, validate ? startProbe(e) : null));
                waiters.remove(w);
                pending.decrementAndGet();
                w.cancelTimer();
            }
        } catch (Throwable ex) {
            LOG.error("pool '{}': matching waiters failed; the ones already matched are served", pool.name, ex);
        }
        return handoffs;
    }

    /**
     * Completes chosen waiters. A thread already completing a waiter (i.e. running some
     * caller's continuation that released a lease) hands the work to the completion
     * executor, which bounds how much foreign work one release can run.
     */
    private void complete(List<Handoff<C>> handoffs) {
        int[] depth = COMPLETING.get();
        if (depth[0] > 0) {
            completionExecutor.execute(() -> complete(handoffs));
            return;
        }
        depth[0]++;
        try {
            for (Handoff<C> h : handoffs) {
                if (h.probe() != null) {
                    validateThenDeliver(h.waiter(), h.entry(), h.probe());
                } else {
                    deliver(h.waiter(), h.entry());
                }
            }
        } finally {
            depth[0]--;
        }
    }

    private void deliver(Waiter<C> w, PoolEntry<C> e) {
        long waited = System.nanoTime() - w.startNanos;
        boolean fresh = e.takeFresh();
        PooledLease<C> lease = pool.newLease(e, fresh); // tracked before the hand-over: the caller may end it at once
        // Counted before the hand-over so a caller that reads stats right after getting its
        // lease sees itself; taken back below if the caller gave up in the meantime (then
        // only the wait histogram keeps one extra sample).
        PoolCounters counters = pool.counters;
        counters.slowAcquisitions.increment();
        if (fresh) {
            counters.misses.increment();
        }
        counters.waits.recordWait(waited);
        if (!w.deliver(lease)) {
            counters.slowAcquisitions.decrement();
            if (fresh) {
                counters.misses.decrement();
                e.markFresh();
            }
            lease.close();
        }
    }

    // ------------------------------------------------------------------ checkout validation

    /**
     * Starts the checkout probe of an entry taken with its VALIDATING mark. No other lease can be
     * taken until the probe has started, so nobody can have closed the connection under it. Once
     * it has started, a multiplexed entry drops the mark and serves its other slots during the
     * round trip; an exclusive one keeps it (its only slot is the prober's anyway).
     */
    CompletionStage<Void> startProbe(PoolEntry<C> e) {
        C c = e.connection;
        CompletionStage<Void> probe = pool.closed
                ? CompletableFuture.failedFuture(new PoolClosedException(pool.name)) : pool.calls.validate(c);
        if (pool.calls.capacity(c) > 1) {
            e.clearValidating();
        }
        return probe;
    }

    /** Hands the slot to {@code w} when the probe succeeds; drops the connection and requeues {@code w} when it fails. */
    void validateThenDeliver(Waiter<C> w, PoolEntry<C> e, CompletionStage<Void> probe) {
        within(probe, pool.config.validationTimeout(), "validation").whenComplete((ok, err) -> {
            if (err == null && pool.closed) {
                // The pool closed during the probe: no lease for this caller.
                e.clearValidating();
                pool.returnSlot(e);
                w.fail(new PoolClosedException(pool.name));
                return;
            }
            if (err == null) {
                e.lastUsedNanos = pool.ticker.nanoTime();
                e.clearValidating();
                deliver(w, e);
                drain(); // an exclusive entry's waiters were held back by the probe
                return;
            }
            LOG.debug("pool '{}': validation of {} failed; retiring it and moving on", pool.name, e, err);
            // Drained, not closed at once: leases a multiplexed connection handed out during the probe may carry
            // requests a live but slow peer is answering, and closing under them would fail requests that may
            // have been processed. No new lease lands on it now; the last release (the probe's own slot, below,
            // when nobody else holds one) closes it, and the transport's own liveness timeout closes it sooner
            // if it is really dead.
            e.retire(CloseReason.VALIDATION_FAILED);
            e.clearValidating();
            pool.returnSlot(e);
            // Count the waiter before it becomes PENDING again, so no releaser sees an empty queue meanwhile.
            pending.incrementAndGet();
            if (!w.tryRequeue()) {
                pending.decrementAndGet(); // its caller gave up during the validation
            } else if (pool.closed) {
                if (w.tryCancel()) {
                    pending.decrementAndGet();
                    w.fail(new PoolClosedException(pool.name));
                }
            } else {
                waiters.offer(w);
                if (!armTimer(w) && w.tryCancel()) {
                    gaveUp(w, true);
                    w.fail(new PoolClosedException(pool.name));
                }
            }
            drain();
        });
    }

    /** The stage, failed with a {@link TimeoutException} if it does not complete in time. */
    private <T> CompletableFuture<T> within(CompletionStage<T> stage, Duration timeout, String what) {
        CompletableFuture<T> out = new CompletableFuture<>();
        ScheduledFuture<?> t = pool.schedule(
                () -> out.completeExceptionally(new TimeoutException(what + " exceeded " + timeout.toMillis() + " ms")),
                timeout.toNanos());
        if (t == null) {
            out.completeExceptionally(new PoolClosedException(pool.name));
        }
        stage.whenComplete((v, err) -> {
            if (t != null) {
                t.cancel(false);
            }
            if (err != null) {
                out.completeExceptionally(err);
            } else {
                out.complete(v);
            }
        });
        return out;
    }

    // ------------------------------------------------------------------ failing waiters

    /**
     * Takes out of the queue the waiters whose connectionTimeout ends before the backoff does
     * (nothing else can serve them: the caller checked that nothing is open or connecting).
     */
    List<Waiter<C>> doomWaitersOutlasting(long backoffLeftNanos, List<Waiter<C>> doomed) {
        long now = System.nanoTime();
        for (Waiter<C> w : waiters) {
            long left = connectionTimeoutNanos - (now - w.startNanos);
            if (left < backoffLeftNanos && w.tryCancel()) {
                waiters.remove(w);
                pending.decrementAndGet();
                w.cancelTimer();
                if (doomed == null) {
                    doomed = new ArrayList<>(4);
                }
                doomed.add(w);
            }
        }
        return doomed;
    }

    /** Fails every waiter with {@code error} (close, or a give-up with nothing left to serve them). */
    void failAll(PoolException error) {
        Waiter<C> w;
        List<Waiter<C>> failed = new ArrayList<>();
        while ((w = waiters.poll()) != null) {
            if (w.tryCancel()) {
                pending.decrementAndGet();
                w.cancelTimer();
                failed.add(w);
            }
        }
        for (Waiter<C> f : failed) {
            f.fail(error);
        }
    }
}

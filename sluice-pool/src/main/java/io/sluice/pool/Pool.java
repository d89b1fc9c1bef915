package io.sluice.pool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A generic asynchronous connection pool whose entries may be multiplexed: a connection
 * of capacity N serves up to N leases at once (HTTP/2 streams); a connection of capacity
 * 1 is exclusive (HTTP/1.1, WebSocket).
 *
 * <h2>Semantics</h2>
 * <ul>
 *   <li>{@link #acquire()} returns an already completed future when a slot is free, after
 *   one CAS on the chosen entry; otherwise the caller waits in a FIFO queue.</li>
 *   <li>Fairness: while anyone waits, new callers queue behind them instead of barging.</li>
 *   <li>One drain loop, guarded by a work-in-progress counter, matches the oldest waiter
 *   with free capacity; every enqueue, release, finished connect, capacity change and
 *   resize runs it, so no wake-up is lost. Futures are completed after the loop, and a
 *   thread that is already completing a waiter hands further completions to the
 *   completion executor, so a release never runs an unbounded chain of other callers'
 *   continuations.</li>
 *   <li>A new connection is opened only when waiting demand exceeds what connections
 *   already being opened will supply (pending connects × their expected capacity), and
 *   never beyond {@code maxConnections} counting those still connecting or draining.</li>
 *   <li>Validation on checkout runs only for connections idle longer than the bypass
 *   window; a connection that fails it is closed and the acquire moves on. The acquire that
 *   takes the first slot of such a connection waits for the probe; a multiplexed connection
 *   keeps serving its other slots meanwhile.</li>
 *   <li>Connect attempts are retried {@code maxRetries} times with exponential backoff and
 *   jitter; when all fail and nothing else can serve the waiters, they fail with
 *   {@link ConnectFailedException} carrying the cause. After such a give-up the pool backs
 *   off ({@link ConnectBackoff}): no connect, for demand or for the minIdle top-up, until the
 *   pause has passed, then one probe at a time until one succeeds.</li>
 *   <li>{@link #close()} lets leases in flight finish within a grace period;
 *   {@link #closeNow()} does not wait.</li>
 * </ul>
 *
 * <p><b>Thread-safety:</b> every public method is thread-safe. The entry array is
 * copy-on-write ({@link EntryTable}) (changed only when connections open or close);
 * each entry's state is one atomic word; counters are atomics or {@link LongAdder}s
 * ({@link PoolCounters}); the backoff's state is documented in {@link ConnectBackoff}.
 * No user code (futures' continuations, manager calls) runs under the table's lock.
 *
 * <p><b>Ownership:</b> the pool owns every connection its manager opened for it and
 * closes each exactly once; it owns the scheduler only if it created it.
 *
 * @param <C> the connection type
 */
public final class Pool<C> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Pool.class);
    private static final VarHandle WIP;
    private static final ThreadLocal<int[]> COMPLETING = ThreadLocal.withInitial(() -> new int[1]);

    static {
        try {
            WIP = MethodHandles.lookup().findVarHandle(Pool.class, "wip", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String name;
    private final ConnectionManager<C> manager;
    private final PoolConfig config;
    private final Ticker ticker;
    private final ScheduledExecutorService scheduler;
    private final boolean ownsScheduler;
    private final Executor completionExecutor;
    private final LeakTracker leakTracker;
    /** Pool-wide pause after failed connects; its own fields say who writes them. */
    private final ConnectBackoff backoff;
    private final long bypassNanos;
    private final long connectionTimeoutNanos;

    private final ManagerCalls<C> calls;
    /** The entries, their slot search and their census. */
    private final EntryTable<C> table;
    private final AtomicLong entryIds = new AtomicLong();

    /** Entries that are not CLOSED: connecting, open and draining; the maxConnections bound applies to it. */
    private final AtomicInteger allocated = new AtomicInteger();
    private final AtomicInteger connecting = new AtomicInteger();
    private volatile int maxConnections;
    /** Connections kept open and warm; starts at the config's, changed by {@link #setMinIdle}. */
    private volatile int minIdle;
    /**
     * Set when {@link #replenish()} stopped at maxConnecting, so that a connect that opens resumes the
     * pre-warm at once. A hint written by any thread: a lost update only delays the top-up to the next
     * housekeeping run.
     */
    private volatile boolean replenishDeferred;
    /** Replenish passes asked for and not yet run; the thread that moved it from 0 runs them all. */
    private final AtomicInteger replenishWip = new AtomicInteger();
    /**
     * What a connect in progress is expected to supply: the manager's guess until the first
     * connection opens, then the capacity of the most recently opened one.
     */
    private volatile int expectedCapacity;

    private final ConcurrentLinkedQueue<Waiter<C>> waiters = new ConcurrentLinkedQueue<>();
    /** Waiters in state PENDING; decremented by whoever moves one out of PENDING. */
    private final AtomicInteger pending = new AtomicInteger();
    private volatile int wip;
    /** Set once by the first {@link #close}/{@link #closeNow} (the CAS on {@link #closeStarted} picks that caller). */
    private volatile boolean closed;
    private final AtomicBoolean closeStarted = new AtomicBoolean();
    /** Set once when a closed pool has no connection left (or its grace period ended): the owned scheduler stops then. */
    private final AtomicBoolean closeFinished = new AtomicBoolean();
    /** The timer that ends close()'s grace period; written once by the closing thread, read by whoever finishes the close. */
    private volatile ScheduledFuture<?> graceTimer;
    /** While true, the minIdle top-up does not run (the health monitor pauses it for an unhealthy route). */
    private volatile boolean replenishPaused;
    private final ScheduledFuture<?> housekeeping;

    private final PoolCounters counters = new PoolCounters();
    private final AcquireWaitRecorder waits = counters.waits;

    private Pool(Builder<C> b) {
        this.name = b.name;
        this.manager = b.manager;
        this.calls = new ManagerCalls<>(name, manager);
        this.config = b.config;
        this.ticker = b.ticker;
        this.ownsScheduler = b.scheduler == null;
        this.scheduler = ownsScheduler ? PoolScheduler.newScheduler(name) : b.scheduler;
        this.completionExecutor = b.completionExecutor;
        this.maxConnections = config.maxConnections();
        this.minIdle = config.minIdle();
        this.expectedCapacity = Math.max(1, manager.expectedCapacity());
        this.bypassNanos = config.validationBypassWindow().toNanos();
        this.table = new EntryTable<>(calls, ticker, bypassNanos, e -> retire(e, CloseReason.BROKEN));
        this.connectionTimeoutNanos = config.connectionTimeout().toNanos();
        this.backoff = new ConnectBackoff(config.failureBackoff().toNanos(), config.maxFailureBackoff().toNanos());
        this.leakTracker = config.leakDetectionThreshold().isZero() ? null
                : new LeakTracker(name, config.leakDetectionThreshold(), scheduler);
        long every = config.housekeepingInterval().toNanos();
        this.housekeeping = b.housekeeping
                ? scheduler.scheduleWithFixedDelay(this::housekeepingSafely, every, every, TimeUnit.NANOSECONDS)
                : null;
        replenish();
    }

    /** Starts building a pool over {@code manager}. */
    public static <C> Builder<C> builder(ConnectionManager<C> manager) {
        return new Builder<>(manager);
    }

    /** The pool's name, used in errors, logs and metric labels. */
    public String name() {
        return name;
    }

    /** The configuration the pool was built with; {@link #maxConnections()} may differ after a resize. */
    public PoolConfig config() {
        return config;
    }

    /** The current limit on connections open or connecting. */
    public int maxConnections() {
        return maxConnections;
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
    }

    // ------------------------------------------------------------------ acquire

    /**
     * Acquires a slot. The future is already complete when a slot was free; otherwise it
     * completes when a slot frees up or a connection opens, or fails with a
     * {@link PoolException}: {@link PoolTimeoutException} after connectionTimeout,
     * {@link PoolExhaustedException} at once when maxPending callers wait already,
     * {@link ConnectFailedException}, or {@link PoolClosedException}. Cancelling the
     * future while it waits gives up the place in the queue; nothing leaks if a slot was
     * being delivered at the same moment.
     */
    public CompletableFuture<Lease<C>> acquire() {
        if (closed) {
            return CompletableFuture.failedFuture(new PoolClosedException(name));
        }
        if (pending.get() == 0) {
            Object slot = table.findSlot(true);
            if (slot instanceof PoolEntry<?>) {
                @SuppressWarnings("unchecked")
                PoolEntry<C> e = (PoolEntry<C>) slot;
                waits.recordImmediate();
                return CompletableFuture.completedFuture(newLease(e));
            }
            if (slot != null) {
                @SuppressWarnings("unchecked")
                EntryTable.Probe<C> probe = (EntryTable.Probe<C>) slot;
                Waiter<C> w = new Waiter<>(this, System.nanoTime(), Waiter.FULFILLED);
                validateThenDeliver(w, probe.entry(), startProbe(probe.entry()));
                return w;
            }
        }
        return enqueue(new Waiter<>(this, System.nanoTime(), Waiter.PENDING));
    }

    /**
     * Takes a free slot without waiting, or answers null: when no slot is free, when
     * callers are waiting (they come first), or when the only free connections are due
     * for validation. Throws {@link PoolClosedException} when the pool is closed.
     */
    public Lease<C> tryAcquire() {
        if (closed) {
            throw new PoolClosedException(name);
        }
        if (pending.get() != 0) {
            return null;
        }
        @SuppressWarnings("unchecked")
        PoolEntry<C> e = (PoolEntry<C>) table.findSlot(false); // never a Probe without mayValidate
        if (e == null) {
            return null;
        }
        waits.recordImmediate();
        return newLease(e);
    }

    private Lease<C> newLease(PoolEntry<C> e) {
        boolean fresh = e.takeFresh();
        if (fresh) {
            counters.misses.increment();
        }
        if (leakTracker == null) {
            return new PooledLease<>(this, e, fresh, null);
        }
        PooledLease<C> lease = new PooledLease<>(this, e, fresh, leakTracker.newRecord());
        leakTracker.track(lease, this);
        return lease;
    }

    private CompletableFuture<Lease<C>> enqueue(Waiter<C> w) {
        if (pending.incrementAndGet() > config.maxPending()) {
            pending.decrementAndGet();
            counters.exhausted.increment();
            return CompletableFuture.failedFuture(
                    new PoolExhaustedException(name, config.maxPending(), maxConnections));
        }
        waiters.offer(w);
        if ((!armTimer(w) || closed) && w.tryCancel()) {
            waiterGaveUp(w, true);
            w.fail(new PoolClosedException(name));
        }
        drain();
        return w;
    }

    /** Schedules on the pool's scheduler; null when it refuses (it was shut down by close()). */
    private ScheduledFuture<?> schedule(Runnable task, long delayNanos) {
        try {
            return scheduler.schedule(task, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return null;
        }
    }

    /** Arms the waiter's connectionTimeout timer; false when the pool is shutting down. */
    private boolean armTimer(Waiter<C> w) {
        long remaining = connectionTimeoutNanos - (System.nanoTime() - w.startNanos);
        ScheduledFuture<?> t = schedule(() -> timeOut(w), remaining);
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
        counters.timeouts.increment();
        long waited = System.nanoTime() - w.startNanos;
        w.fail(new PoolTimeoutException(name, Duration.ofNanos(waited), describeForTimeout(), backoff.lastFailure()));
        waiters.remove(w);
        drain();
    }

    private String describeForTimeout() {
        EntryTable.Census n = table.census();
        return "waiting for a free slot; maxConnections=" + maxConnections + ", open=" + n.connections()
                + ", connecting=" + connecting.get() + ", leasesOut=" + n.leases() + ", waiting=" + pending.get();
    }

    /** Called by a waiter that left PENDING on its caller's behalf (cancel, external completion) or at close. */
    void waiterGaveUp(Waiter<C> w, boolean byClose) {
        pending.decrementAndGet();
        if (!byClose) {
            counters.cancelled.increment();
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
            if (!closed) {
                doomed = connectForDemand(doomed);
            }
            missed = (int) WIP.getAndAdd(this, -missed) - missed;
            if (missed == 0) {
                break;
            }
        }
        if (handoffs != null) {
            complete(handoffs);
        }
        if (doomed != null) {
            failDoomed(doomed);
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
                Object slot = closed ? null : table.findSlot(true);
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
                    returnSlot(e);
                    continue;
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
            LOG.error("pool '{}': matching waiters failed; the ones already matched are served", name, ex);
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
        PooledLease<C> lease = new PooledLease<>(this, e, fresh, leakTracker == null ? null : leakTracker.newRecord());
        if (leakTracker != null) {
            leakTracker.track(lease, this); // before the hand-over: the caller may end the lease at once
        }
        // Counted before the hand-over so a caller that reads stats right after getting its
        // lease sees itself; taken back below if the caller gave up in the meantime (then
        // only the wait histogram keeps one extra sample).
        counters.slowAcquisitions.increment();
        if (fresh) {
            counters.misses.increment();
        }
        waits.recordWait(waited);
        if (!w.deliver(lease)) {
            counters.slowAcquisitions.decrement();
            if (fresh) {
                counters.misses.decrement();
                e.markFresh();
            }
            lease.close();
        }
    }

    /** Gives back a slot taken inside the drain loop, without re-entering it. */
    private void returnSlot(PoolEntry<C> e) {
        long n = e.release();
        if (PoolEntry.state(n) == PoolEntry.DRAINING && PoolEntry.leases(n) == 0 && e.drainedToClosed()) {
            remove(e);
        }
    }

    // ------------------------------------------------------------------ validation

    /**
     * Starts the checkout probe of an entry taken with its VALIDATING mark. No other lease can be
     * taken until the probe has started, so nobody can have closed the connection under it. Once
     * it has started, a multiplexed entry drops the mark and serves its other slots during the
     * round trip; an exclusive one keeps it (its only slot is the prober's anyway).
     */
    private CompletionStage<Void> startProbe(PoolEntry<C> e) {
        C c = e.connection;
        CompletionStage<Void> probe;
        probe = closed ? CompletableFuture.failedFuture(new PoolClosedException(name)) : calls.validate(c);
        if (calls.capacity(c) > 1) {
            e.clearValidating();
        }
        return probe;
    }

    /** Hands the slot to {@code w} when the probe succeeds; drops the connection and requeues {@code w} when it fails. */
    private void validateThenDeliver(Waiter<C> w, PoolEntry<C> e, CompletionStage<Void> probe) {
        within(probe, config.validationTimeout(), "validation").whenComplete((ok, err) -> {
            if (err == null && closed) {
                // The pool closed during the probe: no lease for this caller.
                e.clearValidating();
                returnSlot(e);
                w.fail(new PoolClosedException(name));
                return;
            }
            if (err == null) {
                e.lastUsedNanos = ticker.nanoTime();
                e.clearValidating();
                deliver(w, e);
                drain(); // an exclusive entry's waiters were held back by the probe
                return;
            }
            LOG.debug("pool '{}': validation of {} failed; retiring it and moving on", name, e, err);
            if (e.retire(CloseReason.VALIDATION_FAILED)) {
                // Drained, not closed at once: leases a multiplexed connection handed out during the probe may carry
                // requests a live but slow peer is answering, and closing under them would fail requests that may
                // have been processed. No new lease lands on it now; the last release (the probe's own slot, below,
                // when nobody else holds one) closes it, and the transport's own liveness timeout closes it sooner
                // if it is really dead.
            }
            e.clearValidating();
            returnSlot(e);
            // Count the waiter before it becomes PENDING again, so no releaser sees an empty queue meanwhile.
            pending.incrementAndGet();
            if (!w.tryRequeue()) {
                pending.decrementAndGet(); // its caller gave up during the validation
            } else if (closed) {
                if (w.tryCancel()) {
                    pending.decrementAndGet();
                    w.fail(new PoolClosedException(name));
                }
            } else {
                waiters.offer(w);
                if (!armTimer(w) && w.tryCancel()) {
                    waiterGaveUp(w, true);
                    w.fail(new PoolClosedException(name));
                }
            }
            drain();
        });
    }

    /** The stage, failed with a {@link TimeoutException} if it does not complete in time. */
    private <T> CompletableFuture<T> within(CompletionStage<T> stage, Duration timeout, String what) {
        CompletableFuture<T> out = new CompletableFuture<>();
        ScheduledFuture<?> t = schedule(
                () -> out.completeExceptionally(new TimeoutException(what + " exceeded " + timeout.toMillis() + " ms")),
                timeout.toNanos());
        if (t == null) {
            out.completeExceptionally(new PoolClosedException(name));
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

    // ------------------------------------------------------------------ connect

    /**
     * Opens connections while waiting demand exceeds what connects in progress will supply.
     * While the pool backs off after failed connects it opens none until the pause has passed,
     * then one at a time (a probe) until one succeeds; waiters that would time out before the
     * pause ends, with nothing open or connecting that could serve them, are added to
     * {@code doomed} to fail with the last connect failure. Never throws: answers what it
     * doomed so far.
     */
    private List<Waiter<C>> connectForDemand(List<Waiter<C>> doomed) {
        try {
            int demand = pending.get();
            if (demand == 0) {
                return doomed;
            }
            if (backoff.failing()) {
                long now = ticker.nanoTime();
                if (!backoff.mayConnect(now)) {
                    if (connecting.get() == 0 && !hasOpenEntry()) {
                        doomed = doomWaitersTheBackoffOutlasts(backoff.remainingNanos(now), doomed);
                    }
                    if (pending.get() > 0) {
                        backoff.armWakeup(now, this::schedule, this::drain); // the probe for those still waiting
                    }
                } else if (connecting.get() == 0 && reserveConnect()) {
                    startConnect(true); // the probe; its success ends the backoff and runs this loop again
                }
                return doomed;
            }
            int per = Math.max(1, expectedCapacity);
            long supply = (long) connecting.get() * per;
            while (demand > supply && !backoff.failing() && reserveConnect()) {
                startConnect(true);
                supply += per;
            }
            // Capped by maxConnecting: each connect in flight ends in drain(), which comes back here.
        } catch (Throwable ex) {
            LOG.error("pool '{}': starting connects for waiters failed", name, ex);
        }
        return doomed;
    }

    /**
     * Takes out of the queue the waiters whose connectionTimeout ends before the backoff does
     * (nothing else can serve them: the caller checked that nothing is open or connecting).
     */
    private List<Waiter<C>> doomWaitersTheBackoffOutlasts(long backoffLeftNanos, List<Waiter<C>> doomed) {
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

    private void failDoomed(List<Waiter<C>> doomed) {
        Throwable cause = backoff.lastFailure();
        ConnectFailedException error = new ConnectFailedException(name, backoff.lastAttempts(),
                cause != null ? cause : new IllegalStateException("connects are failing; backing off"));
        for (Waiter<C> w : doomed) {
            w.fail(error);
        }
    }

    /**
     * Reserves an entry within maxConnections and a connect within maxConnecting, or neither.
     * The entry is reserved first: a reservation given back because the connect cap was reached
     * can only make a concurrent {@link #reserve()} fail, and that caller's demand is met when a
     * connect in flight ends (there is at least one, or the cap would not have been reached).
     */
    private boolean reserveConnect() {
        if (!reserve()) {
            return false;
        }
        int cap = config.maxConnecting();
        for (;;) {
            int c = connecting.get();
            if (c >= cap) {
                allocated.decrementAndGet();
                return false;
            }
            if (connecting.compareAndSet(c, c + 1)) {
                return true;
            }
        }
    }

    /** Counts one more allocated entry if that stays within maxConnections. */
    private boolean reserve() {
        for (;;) {
            int a = allocated.get();
            if (a >= maxConnections) {
                return false;
            }
            if (allocated.compareAndSet(a, a + 1)) {
                return true;
            }
        }
    }

    /** Starts a connect whose entry and connect slot {@link #reserveConnect()} took. */
    private void startConnect(boolean onDemand) {
        PoolEntry<C> e = new PoolEntry<>(entryIds.incrementAndGet());
        table.add(e);
        attemptConnect(e, 1, onDemand, backoff.epoch());
    }

    /** One attempt; {@code epoch} is the backoff round the connect started in (see {@link ConnectBackoff}). */
    private void attemptConnect(PoolEntry<C> e, int attempt, boolean onDemand, long epoch) {
        if (closed) {
            giveUpConnect(e, null, attempt - 1, epoch);
            return;
        }
        AtomicInteger settled = new AtomicInteger();
        ScheduledFuture<?> timer = schedule(() -> {
            if (settled.compareAndSet(0, 1)) {
                onConnectFailed(e, attempt, onDemand, epoch,
                        new TimeoutException("connect exceeded " + config.connectionTimeout().toMillis() + " ms"));
            }
        }, connectionTimeoutNanos);
        if (timer == null) {
            giveUpConnect(e, null, attempt - 1, epoch); // the scheduler is shut down: the pool is closing
            return;
        }
        counters.connectAttempts.increment();
        CompletionStage<C> stage = calls.connect();
        stage.whenComplete((c, err) -> {
            if (!settled.compareAndSet(0, 1)) {
                if (c != null) {
                    calls.close(c); // arrived after the attempt timed out
                }
                return;
            }
            timer.cancel(false);
            if (err != null || c == null) {
                onConnectFailed(e, attempt, onDemand, epoch,
                        err != null ? err : new IllegalStateException("connect() completed with null"));
            } else {
                onConnected(e, c, onDemand);
            }
        });
    }

    private void onConnectFailed(PoolEntry<C> e, int attempt, boolean onDemand, long epoch, Throwable cause) {
        counters.failedConnects.increment();
        Throwable unwrapped = unwrap(cause);
        if (attempt <= config.maxRetries() && !closed && !isPermanent(unwrapped)) {
            long base = config.connectBackoff().toNanos() << Math.min(attempt - 1, 20);
            long capped = Math.min(base, config.maxConnectBackoff().toNanos());
            long delay = capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
            LOG.debug("pool '{}': connect attempt {} failed ({}); retrying in {} ms", name, attempt, unwrapped,
                    TimeUnit.NANOSECONDS.toMillis(delay));
            if (schedule(() -> attemptConnect(e, attempt + 1, onDemand, epoch), delay) != null) {
                return;
            }
        }
        LOG.warn("pool '{}': connect failed after {} attempts: {}", name, attempt, unwrapped.toString());
        giveUpConnect(e, unwrapped, attempt, epoch);
    }

    private static boolean isPermanent(Throwable t) {
        for (int depth = 0; t != null && depth < 10; depth++, t = t.getCause()) {
            if (t instanceof RetryClassified classified) {
                return !classified.retryable();
            }
        }
        return false;
    }

    private void giveUpConnect(PoolEntry<C> e, Throwable cause, int attempts, long epoch) {
        replenishDeferred = false;
        if (cause != null && !closed) {
            // A failing upstream is not pressed with replacements: no connect until the pause has passed.
            long pause = backoff.onGiveUp(epoch, ticker.nanoTime(), cause, attempts);
            if (pause >= 0) {
                LOG.warn("pool '{}': connects are failing; no new connection for {} ms", name,
                        TimeUnit.NANOSECONDS.toMillis(pause));
            }
        }
        if (e.connectingToClosed()) {
            connecting.decrementAndGet();
            table.remove(e);
            allocated.decrementAndGet();
        }
        if (cause != null && connecting.get() == 0 && !hasOpenEntry()) {
            // Nothing open and nothing else on the way: the waiters would only time out.
            failAllWaiters(new ConnectFailedException(name, attempts, cause));
        }
        if (closed) {
            finishCloseIfEmpty();
        } else {
            drain();
        }
    }

    /** Connections that count against the limit and are not on their way out: OPEN ones plus connects in flight. */
    private int liveCount() {
        return connecting.get() + table.census().open();
    }

    private boolean hasOpenEntry() {
        return table.census().open() > 0;
    }

    private void onConnected(PoolEntry<C> e, C c, boolean onDemand) {
        long now = ticker.nanoTime();
        long lifetime = config.maxLifetime().toNanos();
        long jitter = (long) (lifetime * config.lifetimeJitter() * ThreadLocalRandom.current().nextDouble());
        e.connection = c;
        e.deadlineNanos = now + lifetime - jitter;
        e.lastUsedNanos = now;
        int cap = calls.capacity(c);
        if (cap > 0) {
            expectedCapacity = cap;
        }
        if (onDemand) {
            e.markFresh();
        }
        if (closed || !e.connectingToOpen()) {
            connecting.decrementAndGet();
            if (e.connectingToClosed()) {
                table.remove(e);
                allocated.decrementAndGet();
            }
            calls.close(c);
            finishCloseIfEmpty();
            return;
        }
        connecting.decrementAndGet();
        counters.created.increment();
        boolean recovered = backoff.failing();
        backoff.onSuccess();
        if (closed) {
            retire(e, CloseReason.POOL_CLOSED);
        } else if (liveCount() > maxConnections) {
            // The limit shrank while this connect was in flight: it is surplus now.
            retire(e, CloseReason.SHRINK);
        }
        if (replenishDeferred || recovered) {
            // the pre-warm the connect cap (or the backoff) held back goes on now
            replenish();
        }
        drain();
    }

    // ------------------------------------------------------------------ release

    /** Returns a lease's slot; called once per lease by {@link PooledLease}. */
    void release(PoolEntry<C> e, boolean invalidate) {
        C c = e.connection;
        if (invalidate) {
            e.retire(CloseReason.INVALIDATED);
            closePhysically(e);
        } else if (calls.broken(c)) {
            e.retire(CloseReason.BROKEN);
        }
        e.lastUsedNanos = ticker.nanoTime();
        long n = e.release();
        if (PoolEntry.state(n) == PoolEntry.DRAINING && PoolEntry.leases(n) == 0 && e.drainedToClosed()) {
            remove(e);
            drain();
        } else if (pending.get() > 0) {
            drain();
        }
    }

    void leaseEndedTwice(PooledLease<C> lease, boolean invalidate) {
        if (LOG.isDebugEnabled()) {
            LOG.debug("pool '{}': lease {} twice; the second call is ignored: {}", name,
                    invalidate ? "invalidated after it ended" : "closed", lease,
                    new Throwable("second close here"));
        }
    }

    /**
     * Tells the pool that a connection's capacity or health changed (an HTTP/2 SETTINGS
     * frame, a GOAWAY, the peer closing it). The pool retires it if it is broken, and
     * serves waiters if it has room now.
     */
    public void connectionChanged(C connection) {
        PoolEntry<C> e = table.entryOf(connection);
        if (e != null && e.state() == PoolEntry.OPEN && calls.broken(connection)) {
            retire(e, CloseReason.BROKEN);
        }
        drain();
    }

    /** OPEN→DRAINING with the reason; closes at once when no lease is out. */
    private void retire(PoolEntry<C> e, CloseReason reason) {
        if (!e.retire(reason)) {
            return;
        }
        if (e.leases() == 0 && e.drainedToClosed()) {
            remove(e);
        }
    }

    /** OPEN with no lease→CLOSED with the reason, and out of the pool; false when the entry was not idle. */
    private boolean closeIfIdle(PoolEntry<C> e, CloseReason reason) {
        return closeIfIdle(e, reason, true);
    }

    private boolean closeIfIdle(PoolEntry<C> e, CloseReason reason, boolean refill) {
        long w = e.word();
        if (PoolEntry.state(w) != PoolEntry.OPEN || PoolEntry.leases(w) != 0 || PoolEntry.validating(w)) {
            return false;
        }
        if (!e.retireIdle(reason)) {
            return false;
        }
        remove(e, refill);
        return true;
    }

    // ------------------------------------------------------------------ entry list

    /** Takes a CLOSED entry out of the pool: list, count, connection, statistics. Called once per entry. */
    private void remove(PoolEntry<C> e) {
        remove(e, true);
    }

    /** As {@link #remove(PoolEntry)}; {@code refill} false when the caller closes connections on purpose (no top-up at once). */
    private void remove(PoolEntry<C> e, boolean refill) {
        table.remove(e);
        // Close before freeing the place, so a connect for it never overlaps this connection.
        closePhysically(e);
        CloseReason reason = e.reason() == null ? CloseReason.BROKEN : e.reason();
        counters.closed(reason);
        allocated.decrementAndGet();
        if (closed) {
            finishCloseIfEmpty();
            return;
        }
        if (refill) {
            replenish();
        }
        drain(); // a place under the limit freed up: a waiter may need a connect now
    }

    private void closePhysically(PoolEntry<C> e) {
        C c = e.connection;
        if (c != null && e.claimPhysicalClose()) {
            calls.close(c);
        }
    }

    // ------------------------------------------------------------------ housekeeping

    private void housekeepingSafely() {
        try {
            runHousekeeping();
        } catch (RuntimeException ex) {
            LOG.error("pool '{}': housekeeping failed", name, ex);
        }
    }

    /**
     * One round of maintenance: retires broken and expired connections (an expired
     * multiplexed connection drains), evicts connections idle past idleTimeout while more
     * than minIdle are idle, and opens connections until minIdle are idle or connecting.
     * Runs every housekeepingInterval; tests with a manual ticker call it directly.
     */
    void runHousekeeping() {
        if (closed) {
            return;
        }
        long now = ticker.nanoTime();
        long idleNanos = config.idleTimeout().toNanos();
        List<PoolEntry<C>> expiredIdle = new ArrayList<>();
        for (PoolEntry<C> e : table.snapshot()) {
            long w = e.word();
            if (PoolEntry.state(w) != PoolEntry.OPEN) {
                continue;
            }
            if (calls.broken(e.connection)) {
                retire(e, CloseReason.BROKEN);
            } else if (now - e.deadlineNanos >= 0) {
                retire(e, CloseReason.LIFETIME);
            } else if (PoolEntry.leases(w) == 0 && now - e.lastUsedNanos >= idleNanos) {
                expiredIdle.add(e); // a probe holds a lease: no idle entry is being validated
            }
        }
        int idle = table.census().idle();
        // Sort on a snapshot of the keys: other threads keep changing lastUsedNanos.
        long[][] byAge = new long[expiredIdle.size()][2];
        for (int i = 0; i < byAge.length; i++) {
            byAge[i][0] = expiredIdle.get(i).lastUsedNanos;
            byAge[i][1] = i;
        }
        Arrays.sort(byAge, (a, b) -> Long.compare(a[0], b[0]));
        for (long[] k : byAge) {
            if (idle <= minIdle) {
                break;
            }
            if (closeIfIdle(expiredIdle.get((int) k[1]), CloseReason.IDLE)) {
                idle--;
            }
        }
        replenish();
        drain();
    }

    /**
     * Opens connections until minIdle are idle or on their way, within maxConnections. One pass at a time:
     * two threads counting the same missing connections (housekeeping, a resize, a connect that freed a
     * slot) would each open them. A call that finds a pass running makes that pass go round once more.
     */
    private void replenish() {
        if (replenishWip.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        do {
            try {
                replenishPass();
            } catch (Throwable ex) { // never leave replenishWip raised: no top-up would ever run again
                LOG.error("pool '{}': top-up to minIdle failed", name, ex);
            }
            missed = replenishWip.addAndGet(-missed);
        } while (missed != 0);
    }

    /**
     * Whether the top-up may start a connect now: not while paused, nor while backing off after
     * failed connects; once the pause has passed, one connect at a time probes the upstream.
     */
    private boolean mayReplenish() {
        if (replenishPaused) {
            return false;
        }
        if (!backoff.failing()) {
            return true;
        }
        return backoff.mayConnect(ticker.nanoTime()) && connecting.get() == 0;
    }

    private void replenishPass() {
        if (closed || !mayReplenish()) {
            return;
        }
        replenishDeferred = false; // a connect that completes while this runs must not start a nested top-up
        int target = Math.min(minIdle, maxConnections);
        int idleOrComing = connecting.get() + table.census().idle();
        boolean capped = false;
        while (idleOrComing < target) {
            if (!mayReplenish()) { // a connect of this pass failed at once, or the pool is probing
                break;
            }
            if (!reserveConnect()) {
                capped = connecting.get() >= config.maxConnecting();
                break;
            }
            startConnect(false);
            idleOrComing++;
        }
        replenishDeferred = capped;
    }

    /**
     * A future that completes when minIdle connections are open (or, if connects fail,
     * when no connect is in progress any more). Useful to wait for the pre-warm.
     */
    public CompletableFuture<Void> warmUp() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Runnable[] check = new Runnable[1];
        check[0] = () -> {
            PoolStats s = stats();
            if (closed || s.open() >= Math.min(minIdle, maxConnections) || (s.connecting() == 0 && !replenishDeferred)) {
                done.complete(null);
            } else {
                if (schedule(check[0], TimeUnit.MILLISECONDS.toNanos(5)) == null) {
                    done.complete(null);
                }
            }
        };
        check[0].run();
        return done;
    }

    // ------------------------------------------------------------------ resize, evict, close

    /**
     * Changes the limit on connections open or connecting. Growing serves waiters at once;
     * shrinking marks surplus connections draining (idle ones first), so they take no new
     * leases and close on their last release. Draining connections count against the new
     * limit until they close. Growing also opens connections up to minIdle at once, when
     * the old limit held the pool below it.
     */
    public void setMaxConnections(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("maxConnections must be at least 1, was " + n);
        }
        int old = maxConnections;
        maxConnections = n;
        if (n < old) {
            shrinkTo(n);
        }
        LOG.debug("pool '{}': maxConnections {} -> {}", name, old, n);
        if (n > old) {
            replenish(); // a minIdle the old limit clipped is topped up now, not at the next housekeeping tick
        }
        drain();
    }

    /**
     * Changes how many connections are kept open and warm (never more than maxConnections).
     * Raising it opens the missing ones at once; lowering it lets the surplus close when
     * their idle timeout passes, as any idle connection above minIdle does.
     */
    public void setMinIdle(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("minIdle must not be negative, was " + n);
        }
        int old = minIdle;
        minIdle = n;
        LOG.debug("pool '{}': minIdle {} -> {}", name, old, n);
        if (n > old) {
            replenish();
        }
    }

    /** The current minIdle (the config's unless {@link #setMinIdle} changed it). */
    public int minIdle() {
        return minIdle;
    }

    private void shrinkTo(int n) {
        int surplus = liveCount() - n;
        if (surplus <= 0) {
            return;
        }
        List<PoolEntry<C>> open = new ArrayList<>();
        for (PoolEntry<C> e : table.snapshot()) {
            if (e.state() == PoolEntry.OPEN) {
                open.add(e);
            }
        }
        // Idle ones first, on a snapshot of the lease counts (they change under our feet).
        long[][] byLoad = new long[open.size()][2];
        for (int i = 0; i < byLoad.length; i++) {
            byLoad[i][0] = open.get(i).leases();
            byLoad[i][1] = i;
        }
        Arrays.sort(byLoad, (a, b) -> Long.compare(a[0], b[0]));
        for (long[] k : byLoad) {
            if (surplus == 0) {
                break;
            }
            PoolEntry<C> e = open.get((int) k[1]);
            if (e.retire(CloseReason.SHRINK)) {
                surplus--;
                if (e.leases() == 0 && e.drainedToClosed()) {
                    remove(e);
                }
            }
        }
    }

    /**
     * Closes every idle connection now (e.g. when its route turned unhealthy); leased ones are
     * untouched. The closed ones are not replaced at once: the next top-up to minIdle does
     * that, unless {@link #pauseReplenish(boolean) paused} or backing off.
     */
    public int closeIdleConnections() {
        int n = 0;
        for (PoolEntry<C> e : table.snapshot()) {
            if (closeIfIdle(e, CloseReason.EVICTED, false)) {
                n++;
            }
        }
        return n;
    }

    /**
     * Pauses ({@code true}) or resumes the top-up that keeps minIdle connections warm. While
     * paused the pool opens connections only for callers that wait for one (and those back off
     * as usual when connects fail). The health monitor pauses it while the pool's upstream
     * fails its probes, so the idle connections it closed are not reopened at once; resuming
     * tops up at once.
     */
    public void pauseReplenish(boolean paused) {
        boolean was = replenishPaused;
        replenishPaused = paused;
        if (was && !paused) {
            replenish();
        }
    }

    /** Whether the minIdle top-up is paused (see {@link #pauseReplenish(boolean)}). */
    public boolean isReplenishPaused() {
        return replenishPaused;
    }

    /**
     * Closes the pool gracefully: new acquires fail with {@link PoolClosedException}, so do
     * callers waiting now; background work stops; idle connections close at once; connections
     * with leases out take no new ones and close when their last lease ends, or when
     * {@link PoolConfig#closeGracePeriod()} (30 s) has passed, whichever comes first (then
     * requests still running on them fail). Connects in progress are closed when they
     * complete. Returns at once; idempotent. A pool-owned scheduler stops once the last
     * connection is closed or the grace period ends.
     */
    @Override
    public void close() {
        close(config.closeGracePeriod());
    }

    /**
     * Closes the pool and every connection at once, leased ones included (their requests
     * fail). Also cuts short the grace period of an earlier {@link #close()}. Idempotent.
     */
    public void closeNow() {
        close(Duration.ZERO);
    }

    private void close(Duration grace) {
        if (!closeStarted.compareAndSet(false, true)) {
            if (grace.isZero()) {
                endGracePeriod();
            }
            return;
        }
        closed = true;
        if (housekeeping != null) {
            housekeeping.cancel(false);
        }
        failAllWaiters(new PoolClosedException(name));
        for (PoolEntry<C> e : table.snapshot()) {
            if (e.retire(CloseReason.POOL_CLOSED) && e.leases() == 0 && e.drainedToClosed()) {
                remove(e);
            }
        }
        if (grace.isZero()) {
            endGracePeriod();
        } else if (allocated.get() > 0) {
            ScheduledFuture<?> t = schedule(this::endGracePeriod, grace.toNanos());
            graceTimer = t;
            if (t == null) {
                endGracePeriod(); // a scheduler shut down by its owner cannot time the grace: do not wait
            } else if (closeFinished.get()) {
                t.cancel(false); // the last lease ended while the timer was being set
            }
        }
        finishCloseIfEmpty();
    }

    /** The grace period is over: connections still leased are closed under their leases. */
    private void endGracePeriod() {
        for (PoolEntry<C> e : table.snapshot()) {
            if (e.state() == PoolEntry.DRAINING) {
                closePhysically(e); // the entry leaves the pool when its last lease ends
            }
        }
        finishClose();
    }

    /** Finishes the close once no connection is left (each close path calls it after taking one out). */
    private void finishCloseIfEmpty() {
        if (closed && allocated.get() == 0) {
            finishClose();
        }
    }

    private void finishClose() {
        if (!closeFinished.compareAndSet(false, true)) {
            return;
        }
        ScheduledFuture<?> t = graceTimer;
        if (t != null) {
            t.cancel(false);
        }
        if (ownsScheduler) {
            scheduler.shutdown();
        }
    }

    private void failAllWaiters(PoolException error) {
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

    // ------------------------------------------------------------------ stats

    /**
     * The few numbers a load controller samples often: slots in use, slots offered by
     * open connections, acquisitions and total wait so far. Cheaper than {@link #stats()}
     * (no histogram copy).
     */
    public PoolLoad load() {
        EntryTable.Census n = table.census();
        return new PoolLoad(n.leases(), n.capacity(), pending.get(), counters.acquisitions(), waits.totalWaitNanos(),
                maxConnections);
    }

    /** A snapshot of the accounting and counters; exact when taken at a quiescent point. */
    public PoolStats stats() {
        EntryTable.Census n = table.census();
        return counters.snapshot(name, new PoolCounters.Gauges(maxConnections, n.connections(), connecting.get(),
                n.idle(), n.inUse(), n.draining(), n.leases(), n.capacity(), pending.get()), backoff.stepsTotal());
    }

    /** How long every acquire so far waited, in nanoseconds (immediate acquires count as 0); a snapshot. */
    public WaitHistogram acquireWaits() {
        return new WaitHistogram(waits.snapshot());
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof java.util.concurrent.CompletionException
                || t instanceof java.util.concurrent.ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    @Override
    public String toString() {
        return "Pool[" + name + ", max=" + maxConnections + ", entries=" + table.size() + ", waiting="
                + pending.get() + (closed ? ", closed" : "") + "]";
    }

    /**
     * Builds a {@link Pool}; the pool starts (pre-warming minIdle connections) when built.
     *
     * <p><b>Thread-safety:</b> not thread-safe; confine to one thread.
     */
    public static final class Builder<C> {
        private final ConnectionManager<C> manager;
        private String name = "pool";
        private PoolConfig config = PoolConfig.defaults();
        private Ticker ticker = Ticker.coarse();
        private ScheduledExecutorService scheduler;
        private Executor completionExecutor = ForkJoinPool.commonPool();
        private boolean housekeeping = true;

        private Builder(ConnectionManager<C> manager) {
            this.manager = Objects.requireNonNull(manager, "manager");
        }

        /** The name used in errors, logs and metric labels. */
        public Builder<C> name(String name) {
            this.name = Objects.requireNonNull(name, "name");
            return this;
        }

        public Builder<C> config(PoolConfig config) {
            this.config = Objects.requireNonNull(config, "config");
            return this;
        }

        /** The clock for lifetimes and idle times; defaults to {@link Ticker#coarse()}. */
        public Builder<C> ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /** Runs timers and housekeeping; the pool does not shut down a scheduler it was given. */
        public Builder<C> scheduler(ScheduledExecutorService scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /** Runs waiter completions that would otherwise nest inside another completion. */
        public Builder<C> completionExecutor(Executor executor) {
            this.completionExecutor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /** Turns the periodic housekeeping off (tests drive {@code runHousekeeping()} themselves). */
        public Builder<C> periodicHousekeeping(boolean on) {
            this.housekeeping = on;
            return this;
        }

        public Pool<C> build() {
            return new Pool<>(this);
        }
    }
}

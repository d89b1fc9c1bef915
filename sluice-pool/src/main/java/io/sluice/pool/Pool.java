package io.sluice.pool;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * <h2>Structure</h2>
 * This class is the public face and the entry lifecycle's end (acquire, release, retire,
 * remove, resize, close, statistics); the parts live in package-private classes:
 * {@link EntryTable} (the copy-on-write entries, slot search, census), {@link WaitQueue}
 * (waiters, the drain loop, checkout validation), {@link Connector} (reservation, attempts,
 * retries, backoff, give-up), {@link Housekeeper} (lifetime, idle eviction, top-up to
 * minIdle, shrink) and {@link ManagerCalls} (the guarded SPI calls). It stays above 500 lines
 * because it carries the public API's documentation and the public {@link Builder}.
 *
 * <p><b>Thread-safety:</b> every public method is thread-safe. Each entry's state is one
 * atomic word; counters are atomics or {@code LongAdder}s ({@link PoolCounters}); each part
 * documents its own fields. The fields below are final, or volatile with the writer named.
 * No user code (futures' continuations, manager calls) runs under a lock.
 *
 * <p><b>Ownership:</b> the pool owns every connection its manager opened for it and
 * closes each exactly once; it owns the scheduler only if it created it.
 *
 * @param <C> the connection type
 */
public final class Pool<C> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Pool.class);

    final String name;
    final PoolConfig config;
    final Ticker ticker;
    final ScheduledExecutorService scheduler;
    private final boolean ownsScheduler;
    private final LeakTracker leakTracker;
    final PoolCounters counters = new PoolCounters();
    final ManagerCalls<C> calls;
    final EntryTable<C> table;
    final WaitQueue<C> queue;
    final Connector<C> connector;
    final Housekeeper<C> housekeeper;
    /** The channel every connect hands the manager: a connection's changes come back through it. */
    final ConnectionEvents<C> events = this::connectionChanged;

    /** The limit on connections open, connecting or draining; written by {@link #setMaxConnections}. */
    volatile int maxConnections;
    /** Set once by the first {@link #close}/{@link #closeNow} (the CAS on {@link #closeStarted} picks that caller). */
    volatile boolean closed;
    private final AtomicBoolean closeStarted = new AtomicBoolean();
    /** Set once when a closed pool has no connection left (or its grace period ended): the owned scheduler stops then. */
    private final AtomicBoolean closeFinished = new AtomicBoolean();
    /** The timer that ends close()'s grace period; written once by the closing thread, read by whoever finishes the close. */
    private volatile ScheduledFuture<?> graceTimer;

    private Pool(Builder<C> b) {
        this.name = b.name;
        this.config = b.config;
        this.ticker = b.ticker;
        this.ownsScheduler = b.scheduler == null;
        this.scheduler = ownsScheduler ? PoolScheduler.newScheduler(name) : b.scheduler;
        this.maxConnections = config.maxConnections();
        this.calls = new ManagerCalls<>(name, b.manager);
        this.table = new EntryTable<>(calls, ticker, config.validationBypassWindow().toNanos(),
                config.streamPlacement(), config.targetStreamsPerConnection(), e -> retire(e, CloseReason.BROKEN));
        this.leakTracker = config.leakDetectionThreshold().isZero() ? null
                : new LeakTracker(name, config.leakDetectionThreshold(), scheduler);
        this.queue = new WaitQueue<>(this, b.completionExecutor);
        this.connector = new Connector<>(this, config);
        this.housekeeper = new Housekeeper<>(this, config.minIdle());
        if (b.housekeeping) {
            housekeeper.start(config.housekeepingInterval().toNanos());
        }
        housekeeper.replenish();
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
        if (queue.pending() == 0) {
            Object slot = table.findSlot(true);
            if (slot instanceof PoolEntry<?>) {
                @SuppressWarnings("unchecked")
                PoolEntry<C> e = (PoolEntry<C>) slot;
                counters.waits.recordImmediate();
                return CompletableFuture.completedFuture(newLease(e));
            }
            if (slot != null) {
                @SuppressWarnings("unchecked")
                EntryTable.Probe<C> probe = (EntryTable.Probe<C>) slot;
                Waiter<C> w = new Waiter<>(queue, System.nanoTime(), Waiter.FULFILLED);
                queue.validateThenDeliver(w, probe.entry(), queue.startProbe(probe.entry()));
                return w;
            }
        }
        return queue.enqueue(new Waiter<>(queue, System.nanoTime(), Waiter.PENDING));
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
        if (queue.pending() != 0) {
            return null;
        }
        @SuppressWarnings("unchecked")
        PoolEntry<C> e = (PoolEntry<C>) table.findSlot(false); // never a Probe without mayValidate
        if (e == null) {
            return null;
        }
        counters.waits.recordImmediate();
        return newLease(e);
    }

    private Lease<C> newLease(PoolEntry<C> e) {
        if (table.aboveTarget(e)) {
            connector.connectForTarget(); // every connection is at the target: open one more for the next leases
        }
        boolean fresh = e.takeFresh();
        if (fresh) {
            counters.misses.increment();
        }
        return newLease(e, fresh);
    }

    /** A lease on a slot already taken, tracked for leaks when that is on. */
    PooledLease<C> newLease(PoolEntry<C> e, boolean fresh) {
        if (leakTracker == null) {
            return new PooledLease<>(this, e, fresh, null);
        }
        PooledLease<C> lease = new PooledLease<>(this, e, fresh, leakTracker.newRecord());
        leakTracker.track(lease, this);
        return lease;
    }

    /** Runs the drain loop (see {@link WaitQueue#drain()}). */
    void drain() {
        queue.drain();
    }

    /** Schedules on the pool's scheduler; null when it refuses (it was shut down by close()). */
    ScheduledFuture<?> schedule(Runnable task, long delayNanos) {
        try {
            return scheduler.schedule(task, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return null;
        }
    }

    // ------------------------------------------------------------------ release, retire, remove

    /** Returns a lease's slot; called once per lease by {@link PooledLease}. */
    void release(PoolEntry<C> e, boolean invalidate) {
        if (invalidate) {
            e.retire(CloseReason.INVALIDATED);
            closePhysically(e);
        } else if (calls.broken(e.connection)) {
            e.retire(CloseReason.BROKEN);
        }
        e.lastUsedNanos = ticker.nanoTime();
        long n = e.release();
        if (PoolEntry.state(n) == PoolEntry.DRAINING && PoolEntry.leases(n) == 0 && e.drainedToClosed()) {
            remove(e, true);
            drain();
        } else if (queue.pending() > 0) {
            drain();
        }
    }

    /** Gives back a slot taken inside the drain loop (or a probe), without re-entering the loop unless the entry closed. */
    void returnSlot(PoolEntry<C> e) {
        long n = e.release();
        if (PoolEntry.state(n) == PoolEntry.DRAINING && PoolEntry.leases(n) == 0 && e.drainedToClosed()) {
            remove(e, true);
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
     * A connection's capacity or health changed (an HTTP/2 SETTINGS frame, a GOAWAY, the peer
     * closing it): what {@link #events} does. Retires it if it is broken, and serves waiters if
     * it has room now.
     */
    private void connectionChanged(C connection) {
        PoolEntry<C> e = table.entryOf(connection);
        if (e != null && e.state() == PoolEntry.OPEN && calls.broken(connection)) {
            retire(e, CloseReason.BROKEN);
        }
        drain();
    }

    /** OPEN→DRAINING with the reason; closes at once when no lease is out. */
    void retire(PoolEntry<C> e, CloseReason reason) {
        if (e.retire(reason) && e.leases() == 0 && e.drainedToClosed()) {
            remove(e, true);
        }
    }

    /** OPEN with no lease→CLOSED with the reason, and out of the pool; false when the entry was not idle. */
    boolean closeIfIdle(PoolEntry<C> e, CloseReason reason, boolean refill) {
        long w = e.word();
        if (PoolEntry.state(w) != PoolEntry.OPEN || PoolEntry.leases(w) != 0 || PoolEntry.validating(w)
                || !e.retireIdle(reason)) {
            return false;
        }
        remove(e, refill);
        return true;
    }

    /**
     * Takes a CLOSED entry out of the pool: list, count, connection, statistics. Called once per
     * entry; {@code refill} false when the caller closes connections on purpose (no top-up at once).
     */
    void remove(PoolEntry<C> e, boolean refill) {
        table.remove(e);
        // Close before freeing the place, so a connect for it never overlaps this connection.
        closePhysically(e);
        CloseReason reason = e.reason() == null ? CloseReason.BROKEN : e.reason();
        counters.closed(reason);
        connector.freed();
        if (closed) {
            finishCloseIfEmpty();
            return;
        }
        if (refill) {
            housekeeper.replenish();
        }
        drain(); // a place under the limit freed up: a waiter may need a connect now
    }

    private void closePhysically(PoolEntry<C> e) {
        C c = e.connection;
        if (c != null && e.claimPhysicalClose()) {
            calls.close(c);
        }
    }

    // ------------------------------------------------------------------ housekeeping, resize, evict

    /** One round of housekeeping ({@link Housekeeper#run()}); tests with a manual ticker call it directly. */
    void runHousekeeping() {
        housekeeper.run();
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
            if (closed || s.open() >= Math.min(minIdle(), maxConnections)
                    || (s.connecting() == 0 && !housekeeper.deferred())) {
                done.complete(null);
            } else if (schedule(check[0], TimeUnit.MILLISECONDS.toNanos(5)) == null) {
                done.complete(null);
            }
        };
        check[0].run();
        return done;
    }

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
            housekeeper.shrinkTo(n);
        }
        LOG.debug("pool '{}': maxConnections {} -> {}", name, old, n);
        if (n > old) {
            housekeeper.replenish(); // a minIdle the old limit clipped is topped up now, not at the next housekeeping tick
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
        housekeeper.setMinIdle(n);
    }

    /** The current minIdle (the config's unless {@link #setMinIdle} changed it). */
    public int minIdle() {
        return housekeeper.minIdle();
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
        housekeeper.pause(paused);
    }

    /** Whether the minIdle top-up is paused (see {@link #pauseReplenish(boolean)}). */
    public boolean isReplenishPaused() {
        return housekeeper.paused();
    }

    // ------------------------------------------------------------------ close

    /**
     * Closes the pool gracefully: new acquires fail with {@link PoolClosedException}, so do
     * callers waiting now; background work stops; idle connections close at once; connections
     * with leases out take no new ones and close when their last lease ends, or when
     * {@link PoolConfig#closeGracePeriod()} (30 s) has passed, whichever comes first (then
     * requests still running on them fail). Connects in progress are given up at once: the
     * manager's stage is cancelled, and a connection that still arrives is closed. Returns at
     * once; idempotent. A pool-owned scheduler stops once the last
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
        housekeeper.stop();
        queue.failAll(new PoolClosedException(name));
        // Connects in flight end now: nobody waits for them, and a manager's stage may never complete once
        // its transport is shut down (the client closes its event loops and scheduler right after this).
        connector.abandonAll();
        for (PoolEntry<C> e : table.snapshot()) {
            if (e.retire(CloseReason.POOL_CLOSED) && e.leases() == 0 && e.drainedToClosed()) {
                remove(e, true);
            }
        }
        if (grace.isZero()) {
            endGracePeriod();
        } else if (connector.allocated() > 0) {
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
    void finishCloseIfEmpty() {
        if (closed && connector.allocated() == 0) {
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

    // ------------------------------------------------------------------ stats

    /**
     * The few numbers a load controller samples often: slots in use, slots offered by
     * open connections, acquisitions and total wait so far. Cheaper than {@link #stats()}
     * (no histogram copy).
     */
    public PoolLoad load() {
        EntryTable.Census n = table.census();
        return new PoolLoad(n.leases(), n.capacity(), queue.pending(), counters.acquisitions(),
                counters.waits.totalWaitNanos(), maxConnections);
    }

    /** A snapshot of the accounting and counters; exact when taken at a quiescent point. */
    public PoolStats stats() {
        EntryTable.Census n = table.census();
        return counters.snapshot(name, new PoolCounters.Gauges(maxConnections, n.connections(),
                connector.connecting(), n.idle(), n.inUse(), n.draining(), n.leases(), n.capacity(), queue.pending()),
                connector.backoff.stepsTotal());
    }

    /** How long every acquire so far waited, in nanoseconds (immediate acquires count as 0); a snapshot. */
    public WaitHistogram acquireWaits() {
        return new WaitHistogram(counters.waits.snapshot());
    }

    @Override
    public String toString() {
        return "Pool[" + name + ", max=" + maxConnections + ", entries=" + table.size() + ", waiting="
                + queue.pending() + (closed ? ", closed" : "") + "]";
    }

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

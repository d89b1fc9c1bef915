package io.sluice.pool;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the pool's connections (the pool's "route planner", after OkHttp's split of
 * {@code RealConnectionPool} and {@code RoutePlanner}): the reservation of a place within
 * {@code maxConnections} and a connect slot within {@code maxConnecting}, each attempt with
 * its {@code connectionTimeout} timer (unless the manager {@link ConnectionManager#boundsConnect()
 * bounds its connects itself}: one attempt, one deadline, one owner), retries with backoff and jitter, the give-up, and the
 * pool-wide {@link ConnectBackoff} after a give-up. It decides how many connects waiting
 * demand needs ({@link #connectForDemand}); the top-up to minIdle is {@link Housekeeper}'s.
 *
 * <p><b>State and owners:</b> {@link #allocated} and {@link #connecting} are atomics
 * changed only by reservation (CAS within their limits) and by whoever ends an entry or a
 * connect; {@link #expectedCapacity} is a volatile hint written by connect completions;
 * {@link #backoff} documents its own fields. An entry in CONNECTING is owned by the connect
 * that created it until the CONNECTING→OPEN or CONNECTING→CLOSED CAS.
 *
 * <p><b>Thread-safety:</b> thread-safe; the manager's {@code connect()} and the stage's
 * continuations run without any lock held.
 */
final class Connector<C> {

    private static final Logger LOG = LoggerFactory.getLogger(Pool.class);

    private final Pool<C> pool;
    private final PoolConfig config;
    private final long connectionTimeoutNanos;
    /** The manager owns each attempt's deadline ({@link ConnectionManager#boundsConnect()}): no attempt timer here. */
    private final boolean managerBoundsConnect;
    /** Pool-wide pause after failed connects; its own fields say who writes them. */
    final ConnectBackoff backoff;
    private final AtomicLong entryIds = new AtomicLong();
    /** Entries that are not CLOSED: connecting, open and draining; the maxConnections bound applies to it. */
    private final AtomicInteger allocated = new AtomicInteger();
    /** Connects in flight (reserved and not yet opened or given up); at most maxConnecting. */
    private final AtomicInteger connecting = new AtomicInteger();
    /**
     * How to end each connect in flight when the pool closes: one action per attempt whose stage has not
     * settled, or per connect waiting out its retry delay. Added by the attempt (before it asks the
     * manager, or before it schedules the retry) and removed when that ends; {@link #abandonAll()} runs
     * what is left. Each action is guarded by its attempt's own CAS, so it and the normal end never both act.
     */
    private final Set<Runnable> endAtClose = ConcurrentHashMap.newKeySet();
    /**
     * What a connect in progress is expected to supply: the manager's guess until the first
     * connection opens, then the capacity of the most recently opened one. A hint; last writer wins.
     */
    private volatile int expectedCapacity;

    Connector(Pool<C> pool, PoolConfig config) {
        this.pool = pool;
        this.config = config;
        this.connectionTimeoutNanos = config.connectionTimeout().toNanos();
        this.managerBoundsConnect = pool.calls.boundsConnect();
        this.backoff = new ConnectBackoff(config.failureBackoff().toNanos(), config.maxFailureBackoff().toNanos());
        this.expectedCapacity = pool.calls.expectedCapacity();
    }

    int connecting() {
        return connecting.get();
    }

    int allocated() {
        return allocated.get();
    }

    /** A CLOSED entry left the pool: its place under maxConnections is free again. */
    void freed() {
        allocated.decrementAndGet();
    }

    /** Connections that count against the limit and are not on their way out: OPEN ones plus connects in flight. */
    int liveCount() {
        return connecting.get() + pool.table.census().open();
    }

    private boolean nothingOpenOrConnecting() {
        return connecting.get() == 0 && pool.table.census().open() == 0;
    }

    /**
     * Opens connections while waiting demand exceeds what connects in progress will supply.
     * While the pool backs off after failed connects it opens none until the pause has passed,
     * then one at a time (a probe) until one succeeds; waiters that would time out before the
     * pause ends, with nothing open or connecting that could serve them, are added to
     * {@code doomed} to fail with the last connect failure. Never throws: answers what it
     * doomed so far. Runs inside the drain loop.
     */
    List<Waiter<C>> connectForDemand(int demand, List<Waiter<C>> doomed) {
        try {
            if (demand == 0) {
                return doomed;
            }
            if (backoff.failing()) {
                long now = pool.ticker.nanoTime();
                if (!backoff.mayConnect(now)) {
                    if (nothingOpenOrConnecting()) {
                        doomed = pool.queue.doomWaitersOutlasting(backoff.remainingNanos(now), doomed);
                    }
                    if (pool.queue.pending() > 0) {
                        backoff.armWakeup(now, pool::schedule, pool::drain); // the probe for those still waiting
                    }
                } else if (reserveSoleConnect()) {
                    startConnect(true); // the probe; its success ends the backoff and runs the drain loop again
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
            LOG.error("pool '{}': starting connects for waiters failed", pool.name, ex);
        }
        return doomed;
    }

    /**
     * Opens one more connection because every open one holds its target of leases
     * ({@link PoolConfig#targetStreamsPerConnection()}): one at a time, one probe per backoff pause
     * while connects fail, within maxConnections. Nobody waits for it; the leases that went above the target stay where
     * they are.
     */
    void connectForTarget() {
        try {
            // While connects fail, one probe per backoff pause (as for waiters and the top-up): nobody waits with a
            // target set, so refusing outright would leave the target off until the pool filled up. The first
            // read is only a shortcut; reserveSoleConnect() decides, so two callers racing here start one connect.
            if (connecting.get() == 0 && !pool.closed && backoff.mayConnect(pool.ticker.nanoTime())
                    && reserveSoleConnect()) {
                startConnect(false);
            }
        } catch (Throwable ex) {
            LOG.error("pool '{}': starting a connect for the target failed", pool.name, ex); // the drain loop calls it
        }
    }

    /** The error for waiters the backoff outlasts. */
    ConnectFailedException backoffFailure() {
        Throwable cause = backoff.lastFailure();
        return new ConnectFailedException(pool.name, backoff.lastAttempts(),
                cause != null ? cause : new IllegalStateException("connects are failing; backing off"));
    }

    /**
     * Reserves an entry within maxConnections and a connect within maxConnecting, or neither.
     * The entry is reserved first: a reservation given back because the connect cap was reached
     * can only make a concurrent reservation fail, and that caller's demand is met when a
     * connect in flight ends (there is at least one, or the cap would not have been reached).
     */
    boolean reserveConnect() {
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

    /**
     * As {@link #reserveConnect()}, but only when no connect is in flight (0→1 in one CAS): for the connects that go
     * one at a time (the target's, a backoff probe). Reading {@code connecting == 0} and then reserving let two
     * callers racing between the read and the reservation both start one.
     */
    private boolean reserveSoleConnect() {
        if (!reserve()) {
            return false;
        }
        if (connecting.compareAndSet(0, 1)) {
            return true;
        }
        allocated.decrementAndGet(); // as in reserveConnect(): the connect in flight runs the drain loop when it ends
        return false;
    }

    /** Counts one more allocated entry if that stays within maxConnections. */
    private boolean reserve() {
        for (;;) {
            int a = allocated.get();
            if (a >= pool.maxConnections) {
                return false;
            }
            if (allocated.compareAndSet(a, a + 1)) {
                return true;
            }
        }
    }

    /** Starts a connect whose entry and connect slot {@link #reserveConnect()} took. */
    void startConnect(boolean onDemand) {
        PoolEntry<C> e = new PoolEntry<>(entryIds.incrementAndGet());
        pool.table.add(e);
        attempt(e, 1, onDemand, backoff.epoch());
    }

    /** One attempt; {@code epoch} is the backoff round the connect started in (see {@link ConnectBackoff}). */
    private void attempt(PoolEntry<C> e, int attempt, boolean onDemand, long epoch) {
        if (pool.closed) {
            giveUp(e, null, attempt - 1, epoch);
            return;
        }
        AtomicInteger settled = new AtomicInteger();
        AtomicReference<CompletionStage<C>> pending = new AtomicReference<>();
        AtomicReference<Future<?>> timer = new AtomicReference<>();
        // The pool closing ends the attempt at once: its waiters are failed already, and a manager's stage
        // may never complete once the transport under it is shut down (a dial registered on an event loop
        // that terminated next, its deadline timer dropped with the scheduler), which would leave this entry
        // CONNECTING, and the manager's connect pending, for ever.
        Runnable endIfClosed = new Runnable() {
            @Override
            public void run() {
                if (settled.compareAndSet(0, 1)) {
                    endAtClose.remove(this);
                    cancelTimer(timer.get());
                    giveUp(e, null, attempt, epoch); // not a failed connect: nothing to count, no backoff
                    abandon(pending.get()); // null while connect() runs: then it is cancelled once connect() returns
                }
            }
        };
        endAtClose.add(endIfClosed);
        // The attempt's deadline has one owner: the manager when it bounds its connects (its error names
        // the step that ran out), else this timer. Two timers of the same length would race, and the loser's
        // typed error would be lost.
        if (!managerBoundsConnect) {
            Future<?> t = pool.schedule(() -> {
                if (settled.compareAndSet(0, 1)) {
                    endAtClose.remove(endIfClosed);
                    onFailed(e, attempt, onDemand, epoch,
                            new TimeoutException("connect exceeded " + config.connectionTimeout().toMillis() + " ms"));
                    abandon(pending.get());
                }
            }, connectionTimeoutNanos);
            if (t == null) {
                endAtClose.remove(endIfClosed);
                giveUp(e, null, attempt - 1, epoch); // the scheduler is shut down: the pool is closing
                return;
            }
            timer.set(t);
        }
        pool.counters.connectAttempts.increment();
        CompletionStage<C> stage = pool.calls.connect(pool.events);
        pending.set(stage);
        if (settled.get() != 0) {
            abandon(stage); // the timer fired, or the pool closed, while connect() ran
        } else if (pool.closed) {
            endIfClosed.run(); // closed while connect() ran: the close may have swept before the add above
        }
        stage.whenComplete((c, err) -> {
            if (!settled.compareAndSet(0, 1)) {
                if (c != null) {
                    pool.calls.close(c); // arrived after the attempt timed out or the pool closed
                }
                return;
            }
            endAtClose.remove(endIfClosed);
            cancelTimer(timer.get());
            if (err != null || c == null) {
                onFailed(e, attempt, onDemand, epoch,
                        err != null ? err : new IllegalStateException("connect() completed with null"));
            } else {
                onConnected(e, c, onDemand);
            }
        });
    }

    private static void cancelTimer(Future<?> t) {
        if (t != null) {
            t.cancel(false);
        }
    }

    /**
     * The pool closed: ends every connect in flight now, as given up (its entry leaves the pool), and cancels
     * the manager's stage so that it closes what it was opening; a connection that still arrives is closed
     * when it does. Connects that start or reach their retry during this call end themselves (each checks
     * {@code pool.closed} after registering here).
     */
    void abandonAll() {
        for (Runnable r : endAtClose) {
            if (endAtClose.remove(r)) {
                try {
                    r.run();
                } catch (RuntimeException ex) {
                    LOG.warn("pool '{}': ending a connect in flight at close failed", pool.name, ex);
                }
            }
        }
    }

    /**
     * Tells the manager the pool gave up on an attempt: the pool's timer is the backstop that bounds
     * every manager's connect, and a manager whose stage is a {@link java.util.concurrent.CompletableFuture}
     * learns of it by the cancel (and closes what it opened). A connection that still arrives is closed
     * by the attempt's completion handler.
     */
    private static void abandon(CompletionStage<?> stage) {
        if (stage == null) {
            return;
        }
        try {
            stage.toCompletableFuture().cancel(false);
        } catch (UnsupportedOperationException ignored) {
            // a stage that is not a future cannot be told; its connection is closed when it arrives
        }
    }

    private void onFailed(PoolEntry<C> e, int attempt, boolean onDemand, long epoch, Throwable cause) {
        pool.counters.failedConnects.increment();
        Throwable unwrapped = unwrap(cause);
        if (attempt <= config.maxRetries() && !pool.closed && !isPermanent(unwrapped)) {
            long base = config.connectBackoff().toNanos() << Math.min(attempt - 1, 20);
            long capped = Math.min(base, config.maxConnectBackoff().toNanos());
            long delay = capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
            LOG.debug("pool '{}': connect attempt {} failed ({}); retrying in {} ms", pool.name, attempt, unwrapped,
                    TimeUnit.NANOSECONDS.toMillis(delay));
            // A scheduler shut down during the delay (a client's close) drops the retry: the close ends the
            // connect instead, so the entry does not stay CONNECTING for ever.
            AtomicBoolean due = new AtomicBoolean();
            Runnable endIfClosed = () -> {
                if (due.compareAndSet(false, true)) {
                    giveUp(e, null, attempt, epoch);
                }
            };
            endAtClose.add(endIfClosed);
            if (pool.schedule(() -> {
                endAtClose.remove(endIfClosed);
                if (due.compareAndSet(false, true)) {
                    attempt(e, attempt + 1, onDemand, epoch);
                }
            }, delay) != null) {
                if (pool.closed && endAtClose.remove(endIfClosed)) {
                    endIfClosed.run(); // the close may have swept before the add above
                }
                return;
            }
            endAtClose.remove(endIfClosed);
        }
        LOG.warn("pool '{}': connect failed after {} attempts: {}", pool.name, attempt, unwrapped.toString());
        giveUp(e, unwrapped, attempt, epoch);
    }

    private static boolean isPermanent(Throwable t) {
        for (int depth = 0; t != null && depth < 10; depth++, t = t.getCause()) {
            if (t instanceof RetryClassified classified) {
                return !classified.retryable();
            }
        }
        return false;
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof java.util.concurrent.CompletionException
                || t instanceof java.util.concurrent.ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private void giveUp(PoolEntry<C> e, Throwable cause, int attempts, long epoch) {
        pool.housekeeper.clearDeferred();
        if (cause != null && !pool.closed) {
            // A failing upstream is not pressed with replacements: no connect until the pause has passed.
            long pause = backoff.onGiveUp(epoch, pool.ticker.nanoTime(), cause, attempts);
            if (pause >= 0) {
                LOG.warn("pool '{}': connects are failing; no new connection for {} ms", pool.name,
                        TimeUnit.NANOSECONDS.toMillis(pause));
            }
        }
        if (e.connectingToClosed()) {
            connecting.decrementAndGet();
            pool.table.remove(e);
            allocated.decrementAndGet();
        }
        if (cause != null && nothingOpenOrConnecting()) {
            // Nothing open and nothing else on the way: the waiters would only time out.
            pool.queue.failAll(new ConnectFailedException(pool.name, attempts, cause));
        }
        if (pool.closed) {
            pool.finishCloseIfEmpty();
        } else {
            pool.drain();
        }
    }

    private void onConnected(PoolEntry<C> e, C c, boolean onDemand) {
        long now = pool.ticker.nanoTime();
        long lifetime = config.maxLifetime().toNanos();
        long jitter = (long) (lifetime * config.lifetimeJitter() * ThreadLocalRandom.current().nextDouble());
        e.connection = c;
        e.deadlineNanos = now + lifetime - jitter;
        e.lastUsedNanos = now;
        int cap = pool.calls.capacity(c);
        if (cap > 0) {
            expectedCapacity = cap;
        }
        if (onDemand) {
            e.markFresh();
        }
        if (pool.closed || !e.connectingToOpen()) {
            connecting.decrementAndGet();
            if (e.connectingToClosed()) {
                pool.table.remove(e);
                allocated.decrementAndGet();
            }
            pool.calls.close(c);
            pool.finishCloseIfEmpty();
            return;
        }
        connecting.decrementAndGet();
        pool.counters.created.increment();
        boolean recovered = backoff.failing();
        backoff.onSuccess();
        if (pool.closed) {
            pool.retire(e, CloseReason.POOL_CLOSED);
        } else if (liveCount() > pool.maxConnections) {
            // The limit shrank while this connect was in flight: it is surplus now.
            pool.retire(e, CloseReason.SHRINK);
        }
        pool.housekeeper.connectOpened(recovered);
        pool.drain();
    }
}

package io.sluice.pool;

import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The pool's entries: a small copy-on-write array (it changes only when a connection opens
 * or closes), the slot search the acquire path runs over it ({@link StreamPlacement}: two
 * random choices first when spreading, then the scan from the hint), and the one {@link #census()}
 * that every count of entries by state comes from (statistics, load, housekeeping, resize,
 * the connect decisions, timeout messages).
 *
 * <p>After HikariCP's {@code ConcurrentBag} and Jetty's {@code ConcurrentPool}: readers take
 * the array from one volatile read and never lock; taking a slot is the entry's own CAS
 * ({@link PoolEntry#tryAcquire}).
 *
 * <p><b>Thread-safety:</b> {@link #entries} is replaced only under {@link #lock}, which
 * guards nothing else and is never held while user code runs; {@link #scanHint} is a plain
 * int, read and written racily by scanners (a stale hint only costs a longer scan).
 */
final class EntryTable<C> {

    /** Counts of entries by state, from one pass over one snapshot of the array. */
    record Census(int open, int draining, int idle, int inUse, int leases, int capacity) {
        /** Entries holding a connection: OPEN or DRAINING. */
        int connections() {
            return open + draining;
        }
    }

    /** What {@link #findSlot} answers for the first slot of an idle connection that must pass a probe before use. */
    record Probe<C>(PoolEntry<C> entry) {
    }

    /** Guards replacing {@link #entries}; package-private for the white-box lost-wake-up tests only. */
    final ReentrantLock lock = new ReentrantLock();
    /** Every entry not yet CLOSED-and-removed, CONNECTING ones included; replaced (never mutated) under {@link #lock}. */
    @SuppressWarnings("unchecked")
    private volatile PoolEntry<C>[] entries = new PoolEntry[0];
    /** Where the next scan starts; a plain int because a stale hint only costs a longer scan (benign race). */
    private int scanHint;

    private final ManagerCalls<C> calls;
    private final Ticker ticker;
    private final long bypassNanos;
    /** SPREAD: try the less loaded of two random multiplexed entries before the scan. */
    private final boolean spread;
    /**
     * Leases a multiplexed entry takes before the search prefers another (0: none, an entry takes leases up to
     * its capacity). A soft limit: when every entry is at it, the search takes slots above it.
     */
    private final int target;
    /** Retires an entry the manager reports broken (the pool's retire: it may close and remove the entry). */
    private final Consumer<PoolEntry<C>> retireBroken;

    EntryTable(ManagerCalls<C> calls, Ticker ticker, long bypassNanos, StreamPlacement placement,
               int targetStreamsPerConnection, Consumer<PoolEntry<C>> retireBroken) {
        this.calls = calls;
        this.ticker = ticker;
        this.bypassNanos = bypassNanos;
        this.spread = placement == StreamPlacement.SPREAD;
        this.target = targetStreamsPerConnection;
        this.retireBroken = retireBroken;
    }

    /** The current array; callers iterate it and must not modify it. */
    PoolEntry<C>[] snapshot() {
        return entries;
    }

    int size() {
        return entries.length;
    }

    void add(PoolEntry<C> e) {
        lock.lock();
        try {
            PoolEntry<C>[] es = entries;
            PoolEntry<C>[] n = Arrays.copyOf(es, es.length + 1);
            n[es.length] = e;
            entries = n;
        } finally {
            lock.unlock();
        }
    }

    void remove(PoolEntry<C> e) {
        lock.lock();
        try {
            PoolEntry<C>[] es = entries;
            for (int i = 0; i < es.length; i++) {
                if (es[i] == e) {
                    PoolEntry<C>[] n = Arrays.copyOf(es, es.length - 1);
                    System.arraycopy(es, i + 1, n, i, es.length - i - 1);
                    entries = n;
                    return;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** The entry holding {@code connection}, or null. */
    PoolEntry<C> entryOf(C connection) {
        for (PoolEntry<C> e : entries) {
            if (e.connection == connection) {
                return e;
            }
        }
        return null;
    }

    /**
     * Counts the entries by state: {@code open} (OPEN), {@code draining}, {@code idle} (OPEN
     * without a lease; a probe holds a lease, so no idle entry is being validated),
     * {@code inUse} (OPEN with leases), {@code leases} (on OPEN and DRAINING entries) and
     * {@code capacity} (slots OPEN connections offer now). CONNECTING and CLOSED entries are
     * not counted. Exact at a quiescent point, a consistent-enough estimate otherwise.
     */
    Census census() {
        int open = 0;
        int draining = 0;
        int idle = 0;
        int inUse = 0;
        int leases = 0;
        int capacity = 0;
        for (PoolEntry<C> e : entries) {
            long w = e.word();
            int s = PoolEntry.state(w);
            int l = PoolEntry.leases(w);
            if (s == PoolEntry.OPEN) {
                open++;
                leases += l;
                capacity += Math.max(0, calls.capacity(e.connection));
                if (l == 0) {
                    idle++;
                } else {
                    inUse++;
                }
            } else if (s == PoolEntry.DRAINING) {
                draining++;
                leases += l;
            }
        }
        return new Census(open, draining, idle, inUse, leases, capacity);
    }

    /**
     * Free slots on multiplexed connections in use, in whole connections' worth (each counted up to the
     * target when there is one): spare capacity as good as an idle connection for the minIdle top-up. Without
     * it, streams spread over every connection leave none idle, and the top-up would open connection after
     * connection up to maxConnections.
     */
    int spareConnections() {
        long free = 0;
        int per = 0;
        for (PoolEntry<C> e : entries) {
            long w = e.word();
            int leases = PoolEntry.leases(w);
            if (PoolEntry.state(w) != PoolEntry.OPEN || leases == 0) {
                continue;
            }
            int limit = limit(e.connection, target > 0);
            if (limit > 1) {
                free += Math.max(0, limit - leases);
                per = Math.max(per, limit);
            }
        }
        return per == 0 ? 0 : (int) (free / per);
    }

    /**
     * Scans the entries from the hint for a free slot and takes it: answers the entry (a
     * plain slot), a {@link Probe} (the slot must be validated before use), or null. An idle
     * entry past the bypass window is taken together with its VALIDATING mark when
     * {@code mayValidate}, and skipped otherwise; a multiplexed entry gives out its other
     * slots again once its probe has started. Entries the manager reports broken are retired
     * on the way.
     */
    Object findSlot(boolean mayValidate) {
        if (target == 0) {
            Object slot = findSlot(mayValidate, false);
            return slot == AWAITS_PROBE ? null : slot;
        }
        Object slot = findSlot(mayValidate, true);
        if (slot == AWAITS_PROBE) {
            // A caller that cannot wait for a probe (tryAcquire) skipped an idle entry below the target: it gets no
            // slot above the target elsewhere, which would also start a connect while an idle connection is there.
            // acquire() takes that entry with its probe.
            return null;
        }
        if (slot != null) {
            return slot;
        }
        slot = findSlot(mayValidate, false); // every entry at the target: above it
        return slot == AWAITS_PROBE ? null : slot;
    }

    /**
     * Whether {@code e} holds more leases than the target: the search had to go above it, so the pool
     * should open another connection. Always false without a target.
     */
    boolean aboveTarget(PoolEntry<C> e) {
        return target > 0 && PoolEntry.leases(e.word()) > target;
    }

    /** The slots an entry offers: its capacity, or the target when {@code soft} and the target is lower. */
    private int limit(C c, boolean soft) {
        int capacity = calls.capacity(c);
        return soft && capacity > target ? target : capacity;
    }

    /**
     * What the scan answers when it found no slot but skipped an idle entry it could only take with a probe
     * ({@code mayValidate} false). Never leaves this class.
     */
    private static final Object AWAITS_PROBE = new Object();

    private Object findSlot(boolean mayValidate, boolean soft) {
        PoolEntry<C>[] es = entries;
        int n = es.length;
        if (n == 0) {
            return null;
        }
        if (spread && n > 1) {
            PoolEntry<C> e = twoChoices(es, n, soft);
            if (e != null) {
                return e;
            }
        }
        int start = scanHint;
        if (start >= n) {
            start = 0;
        }
        long now = 0;
        boolean haveNow = false;
        boolean skippedForProbe = false;
        for (int i = 0; i < n; i++) {
            int idx = start + i;
            if (idx >= n) {
                idx -= n;
            }
            PoolEntry<C> e = es[idx];
            long w = e.word();
            if (PoolEntry.state(w) != PoolEntry.OPEN || PoolEntry.validating(w)) {
                continue;
            }
            C c = e.connection;
            if (calls.broken(c)) {
                retireBroken.accept(e);
                continue;
            }
            if (PoolEntry.leases(w) == 0 && bypassNanos > 0) {
                if (!haveNow) {
                    now = ticker.nanoTime();
                    haveNow = true;
                }
                if (now - e.lastUsedNanos > bypassNanos) {
                    if (mayValidate && e.tryAcquireForValidation()) {
                        updateHint(idx);
                        return new Probe<>(e);
                    }
                    skippedForProbe |= !mayValidate;
                    continue;
                }
            }
            if (e.tryAcquire(limit(c, soft))) {
                updateHint(idx);
                return e;
            }
        }
        return skippedForProbe ? AWAITS_PROBE : null;
    }

    /**
     * {@link StreamPlacement#SPREAD}: the less loaded of two distinct random entries, when at
     * least one of them is a multiplexed connection ready to take a lease as it is (OPEN, not
     * validating, not broken, below capacity, and in use or used within the bypass window).
     * Anything else (single-lease connections, a connection due for validation, both full, a
     * lost race for the slot) is left to the scan, which also retires broken entries. Two
     * random picks cost two reads where a least-loaded scan would read every entry, and avoid
     * the herd that a shared "least loaded" answer would send to one connection.
     */
    private PoolEntry<C> twoChoices(PoolEntry<C>[] es, int n, boolean soft) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        int a = random.nextInt(n);
        int b = random.nextInt(n - 1);
        if (b >= a) {
            b++;
        }
        PoolEntry<C> ea = es[a];
        PoolEntry<C> eb = es[b];
        int la = spreadLoad(ea, soft);
        int lb = spreadLoad(eb, soft);
        if (la < 0 && lb < 0) {
            return null;
        }
        PoolEntry<C> first = lb < 0 || (la >= 0 && la <= lb) ? ea : eb;
        PoolEntry<C> second = first == ea ? (lb < 0 ? null : eb) : (la < 0 ? null : ea);
        if (first.tryAcquire(limit(first.connection, soft))) {
            return first;
        }
        return second != null && second.tryAcquire(limit(second.connection, soft)) ? second : null;
    }

    /** The entry's leases when {@link #twoChoices} may give it one more without a probe, else -1. */
    private int spreadLoad(PoolEntry<C> e, boolean soft) {
        long w = e.word();
        if (PoolEntry.state(w) != PoolEntry.OPEN || PoolEntry.validating(w)) {
            return -1;
        }
        C c = e.connection;
        int capacity = calls.capacity(c);
        int leases = PoolEntry.leases(w);
        if (capacity <= 1 || leases >= limit(c, soft) || calls.broken(c)) {
            return -1;
        }
        // An idle entry past the bypass window needs a probe first; the scan handles that.
        if (leases == 0 && bypassNanos > 0 && ticker.nanoTime() - e.lastUsedNanos > bypassNanos) {
            return -1;
        }
        return leases;
    }

    /**
     * Scanning from the last entry that had room packs leases onto as few multiplexed
     * connections as possible; writing the hint only when it changes keeps the field's cache
     * line shared between cores in the steady state.
     */
    private void updateHint(int idx) {
        if (scanHint != idx) {
            scanHint = idx;
        }
    }
}

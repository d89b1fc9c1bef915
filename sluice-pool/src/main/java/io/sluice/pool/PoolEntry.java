package io.sluice.pool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One pooled connection (or one being opened) and its packed state word.
 *
 * <p>The word packs, in one {@code long}, everything the acquire and release paths
 * decide on, so that taking or returning a slot is a single CAS:
 * <pre>
 *   bits  0..31  lease count (slots in use)
 *   bits 32..33  state: 0 OPEN, 1 DRAINING, 2 CLOSED, 3 CONNECTING
 *   bit  34      VALIDATING: a checkout probe is starting (or, on an exclusive connection, in
 *                flight); its holder has the only lease; no new leases meanwhile
 * </pre>
 * A multiplexed connection drops VALIDATING as soon as its probe has started (the pool's
 * {@code startProbe}), so it keeps serving its other slots during the round trip; holding it
 * until then means nobody else can lease, and so close, the connection before the probe
 * is sent.
 * Transitions: CONNECTING→OPEN (connect succeeded) or CONNECTING→CLOSED (gave up);
 * OPEN→DRAINING (retired, broken, shrink: no new leases); DRAINING with 0 leases→CLOSED
 * (exactly once, by whoever releases last or retires it idle); OPEN with 0 leases→CLOSED
 * (idle eviction). The lease count only grows in OPEN without VALIDATING, and only up
 * to the connection's current capacity.
 *
 * <p><b>Thread-safety:</b> {@link #word} changes only by CAS. {@link #connection} and
 * {@link #deadlineNanos} are written once by the connect completion before the
 * CONNECTING→OPEN CAS publishes them. {@link #lastUsedNanos} is written by releasers
 * and read by scanners; a stale read only delays an idle decision (benign race).
 */
final class PoolEntry<C> {

    static final int OPEN = 0;
    static final int DRAINING = 1;
    static final int CLOSED = 2;
    static final int CONNECTING = 3;

    private static final int STATE_SHIFT = 32;
    private static final long STATE_MASK = 3L << STATE_SHIFT;
    static final long VALIDATING = 1L << 34;
    private static final long LEASE_MASK = 0xFFFF_FFFFL;

    private static final VarHandle WORD;
    private static final VarHandle REASON;
    private static final VarHandle PHYSICALLY_CLOSED;
    private static final VarHandle FRESH;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            WORD = l.findVarHandle(PoolEntry.class, "word", long.class);
            REASON = l.findVarHandle(PoolEntry.class, "closeReason", CloseReason.class);
            PHYSICALLY_CLOSED = l.findVarHandle(PoolEntry.class, "physicallyClosed", int.class);
            FRESH = l.findVarHandle(PoolEntry.class, "fresh", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private volatile long word = (long) CONNECTING << STATE_SHIFT;
    private volatile CloseReason closeReason;
    private volatile int physicallyClosed;
    private volatile int fresh;

    volatile C connection;
    volatile long deadlineNanos;
    volatile long lastUsedNanos;
    final long id;

    PoolEntry(long id) {
        this.id = id;
    }

    static int state(long w) {
        return (int) ((w & STATE_MASK) >>> STATE_SHIFT);
    }

    static int leases(long w) {
        return (int) (w & LEASE_MASK);
    }

    static boolean validating(long w) {
        return (w & VALIDATING) != 0;
    }

    long word() {
        return word;
    }

    int state() {
        return state(word);
    }

    int leases() {
        return leases(word);
    }

    boolean casWord(long expect, long update) {
        return WORD.compareAndSet(this, expect, update);
    }

    /** CONNECTING→OPEN, publishing the connection fields written before it. */
    boolean connectingToOpen() {
        return casWord((long) CONNECTING << STATE_SHIFT, (long) OPEN << STATE_SHIFT);
    }

    /** CONNECTING→CLOSED: the connect was given up. */
    boolean connectingToClosed() {
        return casWord((long) CONNECTING << STATE_SHIFT, (long) CLOSED << STATE_SHIFT);
    }

    /**
     * Takes one slot if the entry is OPEN, not VALIDATING and below {@code capacity}.
     * Loops only while the CAS loses to another taker or releaser.
     */
    boolean tryAcquire(int capacity) {
        for (;;) {
            long w = word;
            if ((w & (STATE_MASK | VALIDATING)) != 0 || leases(w) >= capacity) {
                return false;
            }
            if (casWord(w, w + 1)) {
                return true;
            }
        }
    }

    /** Takes the first slot of an idle OPEN entry and marks it VALIDATING in the same CAS. */
    boolean tryAcquireForValidation() {
        long idleOpen = (long) OPEN << STATE_SHIFT;
        return casWord(idleOpen, idleOpen | VALIDATING | 1L);
    }

    /** Clears VALIDATING after the probe succeeded; the holder keeps its slot. */
    void clearValidating() {
        for (;;) {
            long w = word;
            if (casWord(w, w & ~VALIDATING)) {
                return;
            }
        }
    }

    /** Returns one slot (and clears VALIDATING, which only the one lease holder can have set); answers the new word. */
    long release() {
        for (;;) {
            long w = word;
            if (leases(w) == 0) {
                throw new IllegalStateException("entry " + id + ": release without a lease (word=" + Long.toHexString(w) + ")");
            }
            long n = (w - 1) & ~VALIDATING;
            if (casWord(w, n)) {
                return n;
            }
        }
    }

    /** OPEN→DRAINING keeping the lease count; false when it was not OPEN. Without a reason: see {@link #retire}. */
    private boolean openToDraining() {
        for (;;) {
            long w = word;
            if (state(w) != OPEN) {
                return false;
            }
            long n = (w & ~STATE_MASK) | ((long) DRAINING << STATE_SHIFT);
            if (casWord(w, n)) {
                return true;
            }
        }
    }

    /** DRAINING with no lease→CLOSED; true for exactly one caller. */
    boolean drainedToClosed() {
        return casWord((long) DRAINING << STATE_SHIFT, (long) CLOSED << STATE_SHIFT);
    }

    /** OPEN with no lease and no probe→CLOSED (idle eviction); true for exactly one caller. */
    private boolean idleToClosed() {
        return casWord((long) OPEN << STATE_SHIFT, (long) CLOSED << STATE_SHIFT);
    }

    /**
     * Retires the entry with its reason: OPEN→DRAINING (no new leases; it closes on its last
     * release). The reason is recorded first (the first reason wins) so whoever closes the entry
     * sees it, and withdrawn again if this call's transition lost (the entry was retired or
     * closed by someone else meanwhile), so the statistics do not charge the close to the wrong
     * cause. True when this call moved the entry to DRAINING.
     */
    boolean retire(CloseReason reason) {
        return retire(reason, false);
    }

    /**
     * As {@link #retire(CloseReason)}, but only an idle entry (OPEN, no lease, no probe) and
     * straight to CLOSED (idle eviction); true for exactly one caller, who removes the entry.
     */
    boolean retireIdle(CloseReason reason) {
        return retire(reason, true);
    }

    private boolean retire(CloseReason reason, boolean idleOnly) {
        boolean mine = REASON.compareAndSet(this, (CloseReason) null, reason);
        if (idleOnly ? idleToClosed() : openToDraining()) {
            return true;
        }
        if (mine) {
            REASON.compareAndSet(this, reason, (CloseReason) null);
        }
        return false;
    }

    /** Records why the entry leaves the pool; the first reason wins. Answers whether this call set it. */
    boolean reason(CloseReason reason) {
        return REASON.compareAndSet(this, (CloseReason) null, reason);
    }

    CloseReason reason() {
        return closeReason;
    }

    /** True for exactly one caller: the one that must close the connection. */
    boolean claimPhysicalClose() {
        return PHYSICALLY_CLOSED.compareAndSet(this, 0, 1);
    }

    void markFresh() {
        fresh = 1;
    }

    /** True for the first lease of a connection opened on demand (a miss); consumes the mark. */
    boolean takeFresh() {
        return fresh != 0 && FRESH.compareAndSet(this, 1, 0);
    }

    @Override
    public String toString() {
        long w = word;
        return "entry#" + id + "[state=" + state(w) + ", leases=" + leases(w)
                + (validating(w) ? ", validating" : "") + "]";
    }
}

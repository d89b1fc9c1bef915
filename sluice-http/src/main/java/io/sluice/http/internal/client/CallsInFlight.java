package io.sluice.http.internal.client;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The calls of one client that have started and not yet ended, for its graceful close: once {@link #drain()} has
 * run, {@link #enter()} refuses every call, and the end of the last call counted runs the action given at
 * construction, once.
 *
 * <p>The count and the draining flag are one atomic word. A call that starts as the drain begins is therefore
 * either refused (its {@code enter} saw the flag) or counted before the flag was set, and then the drain waits
 * for it: never neither. The last end is the one {@code exit} that takes the word to "draining, none left", which
 * happens once because no call can enter after the flag; when none was left at {@code drain} itself, that call
 * says so and the caller acts instead.
 *
 * <p><b>Thread-safety:</b> thread-safe and lock-free (a compare-and-set loop to enter, one decrement to leave). The
 * action runs on the thread of the last {@code exit}, under no lock; it must be quick and must not block (that
 * thread may be an event loop).
 */
public final class CallsInFlight {

    /** Set by {@link #drain()}; the count is the bits below it. */
    private static final long DRAINING = 1L << 62;

    private final AtomicLong state = new AtomicLong();
    private final Runnable onDrained;

    /** @param onDrained run once, by the exit of the last call counted after {@link #drain()} began */
    public CallsInFlight(Runnable onDrained) {
        this.onDrained = onDrained;
    }

    /** Counts a call that is starting; false, counting nothing, once the drain has begun. */
    public boolean enter() {
        long s;
        do {
            s = state.get();
            if ((s & DRAINING) != 0) {
                return false;
            }
        } while (!state.compareAndSet(s, s + 1));
        return true;
    }

    /** A call counted by {@link #enter()} has ended (or gave up before it began); exactly once per call counted. */
    public void exit() {
        if (state.decrementAndGet() == DRAINING) {
            onDrained.run();
        }
    }

    /**
     * Refuses every call from now on. Returns the calls still counted at that instant (the drain's action runs when
     * the last of them ends; not at all when this returns 0), or -1 when the drain had already begun.
     */
    public long drain() {
        long before = state.getAndUpdate(s -> s | DRAINING);
        return (before & DRAINING) != 0 ? -1 : before;
    }

    /** The calls counted now: started and not yet ended. */
    public int count() {
        return (int) (state.get() & ~DRAINING);
    }
}

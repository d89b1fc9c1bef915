package io.sluice.pool;

/**
 * A source of monotonic time in nanoseconds. The pool reads it on its acquire and
 * release paths, so the default is a coarse clock that costs one volatile read; tests
 * pass a manual ticker to drive lifetimes and idle timeouts without sleeping.
 *
 * <p><b>Thread-safety:</b> implementations must be thread-safe.
 */
@FunctionalInterface
public interface Ticker {

    /** Nanoseconds from an arbitrary origin; never decreases. */
    long nanoTime();

    /** {@link System#nanoTime()} itself: precise, a few tens of nanoseconds per read. */
    static Ticker system() {
        return System::nanoTime;
    }

    /** A shared clock refreshed every millisecond by one daemon thread: one volatile read per call. */
    static Ticker coarse() {
        return CoarseTicker.INSTANCE;
    }
}

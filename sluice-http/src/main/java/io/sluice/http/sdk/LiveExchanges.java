package io.sluice.http.sdk;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The exchanges one transport has in flight, so that closing the transport releases exactly
 * its own pool slots (pending requests are cancelled, open bodies closed) and nothing that other
 * users of the shared {@code ConnectionPoolManager} hold.
 *
 * <p><b>Thread-safety:</b> thread-safe. An {@link #add} racing {@link #closeAll} either sees the
 * close (returns false, and the caller aborts) or is aborted by it, never neither.
 */
public final class LiveExchanges {

    private final Set<Runnable> aborts = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /** Registers an abort action; false when the transport is already closed (nothing was registered). */
    public boolean add(Runnable abort) {
        aborts.add(abort);
        if (closed) {
            // closeAll may or may not have seen it; remove() decides who runs it, and here nobody must
            aborts.remove(abort);
            return false;
        }
        return true;
    }

    /** The exchange ended on its own; its abort action is no longer needed. */
    public void remove(Runnable abort) {
        aborts.remove(abort);
    }

    public boolean closed() {
        return closed;
    }

    /** Marks the transport closed and runs every registered abort action once. */
    public void closeAll() {
        closed = true;
        for (Runnable r : aborts) {
            if (aborts.remove(r)) { // whoever removes it runs it: once
                r.run();
            }
        }
    }

    /** Number of exchanges in flight (pending or with an open body). */
    public int size() {
        return aborts.size();
    }
}

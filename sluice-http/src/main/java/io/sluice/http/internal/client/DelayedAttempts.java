package io.sluice.http.internal.client;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The calls of one client that wait out a status retry's delay. Their next attempt is a task on the client's
 * scheduler, which the client's {@code close()} shuts down: without this registry the dropped task would leave the
 * caller's future incomplete for ever. {@link #closeAll()} fails each waiting call instead.
 *
 * <p><b>Thread-safety:</b> thread-safe (a concurrent set; each call's own CAS decides which of "the delay ended" and
 * "the client closed" wins).
 */
public final class DelayedAttempts {

    private final Set<Runnable> onClose = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /**
     * Registers a waiting call's close action; false when the client is closed already (the caller then fails the
     * call itself).
     */
    boolean add(Runnable closeAction) {
        onClose.add(closeAction);
        if (closed) {
            // close() may have swept before the add: take it back and tell the caller, unless the sweep ran it
            return !onClose.remove(closeAction);
        }
        return true;
    }

    void remove(Runnable closeAction) {
        onClose.remove(closeAction);
    }

    /** Fails every waiting call (the client is closing); later registrations are refused. */
    public void closeAll() {
        closed = true;
        for (Runnable r : onClose) {
            if (onClose.remove(r)) {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    // e.g. the caller's callback executor is already shut down: the other calls still get theirs
                    org.slf4j.LoggerFactory.getLogger(DelayedAttempts.class)
                            .warn("failing a delayed call at close threw", e);
                }
            }
        }
    }
}

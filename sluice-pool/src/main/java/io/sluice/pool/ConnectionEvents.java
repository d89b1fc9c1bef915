package io.sluice.pool;

/**
 * The channel through which a {@link ConnectionManager} tells its pool that a connection
 * changed after it was opened. The pool hands it to the manager with every
 * {@link ConnectionManager#connect(ConnectionEvents) connect}; the manager (or the connection
 * it opens) keeps it for as long as the connection lives. No reference to the pool itself is
 * needed, so a manager can be built before its pool and never learns the pool's type.
 *
 * <p><b>Thread-safety:</b> implementations given by the pool are thread-safe and may be called
 * from any thread (an event loop included); they neither block nor do I/O. Calling them for a
 * connection the pool no longer holds is harmless.
 *
 * @param <C> the connection type
 */
@FunctionalInterface
public interface ConnectionEvents<C> {

    /**
     * The connection's capacity or health changed (an HTTP/2 SETTINGS frame, a GOAWAY, the peer
     * closing it, a missing pong). The pool retires it if {@link ConnectionManager#hasBroken}
     * now says so, and serves waiters at once if it has room now.
     */
    void changed(C connection);
}

package io.sluice.pool;

import java.util.concurrent.CompletionStage;

/**
 * The pool's service-provider interface: how to open, check and close one kind of
 * connection. The pool never
 * touches a socket itself: everything protocol-specific goes through this interface.
 *
 * <p><b>Thread-safety:</b> implementations must be thread-safe; the pool calls every
 * method from arbitrary threads (callers' threads, its maintenance thread, the threads
 * that complete connect and validate stages), possibly concurrently for different
 * connections. {@link #hasBroken} and {@link #capacity} are called on the acquire and
 * release paths and must not block or perform I/O.
 *
 * <p><b>Ownership:</b> a connection returned by {@link #connect} belongs to the pool
 * until the pool calls {@link #close}; the pool calls {@code close} exactly once per
 * connection it received. A connection that completes after the pool gave up on it
 * (connect timeout, pool closed) is closed by the pool as well.
 *
 * @param <C> the connection type
 */
public interface ConnectionManager<C> {

    /**
     * Opens one connection. The stage fails with the cause when the connection cannot be made.
     * {@code events} is the pool's channel for this connection's later changes: keep it with
     * the connection and call {@link ConnectionEvents#changed} when its capacity or health
     * changes, so the pool retires a broken connection and serves waiters at once.
     */
    CompletionStage<C> connect(ConnectionEvents<C> events);

    /**
     * A cheap liveness round trip on the connection itself (an HTTP/2 PING, a WebSocket
     * ping, a channel check). The pool bounds it with
     * {@link PoolConfig#validationTimeout()} and calls it only for connections idle longer
     * than {@link PoolConfig#validationBypassWindow()}.
     */
    CompletionStage<Void> validate(C connection);

    /**
     * Synchronous and without I/O: whether the connection can no longer be used (closed by
     * the peer, GOAWAY received, protocol error seen).
     */
    boolean hasBroken(C connection);

    /**
     * How many leases the connection takes at once right now: 1 for HTTP/1.1 and
     * WebSocket, the negotiated stream limit for HTTP/2. It may change while the
     * connection lives; call {@link ConnectionEvents#changed} (given with
     * {@link #connect}) when it does so that waiters are served at once.
     */
    int capacity(C connection);

    /**
     * Whether {@link #connect} bounds its own attempt: its stage always completes (fails with a
     * timeout of the manager's) within a deadline the manager owns. The pool then arms no attempt
     * timer of its own, so that one connect has one deadline and its error is the manager's (which
     * can name the step that ran out) rather than whichever of two equal timers fired first.
     * {@link PoolConfig#connectionTimeout()} still bounds how long a caller waits for a connection.
     *
     * <p>Default {@code false}: the pool bounds each attempt with {@code connectionTimeout} and,
     * when that fires, cancels the stage (when it is a {@code CompletableFuture}) so the manager can
     * close what it opened.
     */
    default boolean boundsConnect() {
        return false;
    }

    /**
     * How many leases a connection is expected to take before any has been opened: the
     * pool uses it to size its first burst of connects (a burst of 60 requests to an
     * HTTP/2 route should open one connection, not 60). After the first connection opens,
     * the pool uses the capacities it observes instead. A wrong guess costs little: too
     * high, and the first connection's real capacity triggers the connects still needed.
     */
    default int expectedCapacity() {
        return 1;
    }

    /** Closes the connection and releases its resources. Must not throw. */
    void close(C connection);
}

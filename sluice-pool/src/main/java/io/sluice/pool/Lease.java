package io.sluice.pool;

/**
 * The right to use one slot of a pooled connection until {@link #close()} or
 * {@link #invalidate()}.
 *
 * <p><b>Thread-safety:</b> a lease may be closed from any thread, including a thread
 * other than the one that acquired it. Closing or invalidating it more than once is
 * harmless: only the first call has an effect (later ones are logged at debug level).
 *
 * <p><b>Ownership:</b> the connection stays owned by the pool; the holder must not close
 * it and must not use it after the lease ends.
 *
 * @param <C> the connection type
 */
public interface Lease<C> extends AutoCloseable {

    /** The leased connection. */
    C connection();

    /** Returns the slot to the pool. */
    @Override
    void close();

    /** Ends the lease and takes the connection out of the pool: it takes no new leases and is closed. */
    void invalidate();

    /** Whether this lease has ended. */
    boolean isClosed();

    /** Whether the connection was opened for this lease (a miss) rather than found open (a hit). */
    boolean freshConnection();
}

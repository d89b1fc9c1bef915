package io.sluice.pool;

/**
 * Why the pool closed a connection; {@link PoolStats#closedByReason()} counts each.
 *
 * <p><b>Thread-safety:</b> immutable enum.
 */
public enum CloseReason {
    /** Unused longer than idleTimeout while more than minIdle were idle. */
    IDLE,
    /** Older than maxLifetime (minus jitter). */
    LIFETIME,
    /** {@link ConnectionManager#hasBroken} reported it unusable. */
    BROKEN,
    /** A lease holder called {@link Lease#invalidate()}. */
    INVALIDATED,
    /** Validation on checkout failed or timed out. */
    VALIDATION_FAILED,
    /** Surplus after {@link Pool#setMaxConnections(int)} lowered the limit. */
    SHRINK,
    /** Closed by {@link Pool#closeIdleConnections()}, e.g. because its route became unhealthy. */
    EVICTED,
    /** The pool itself was closed. */
    POOL_CLOSED
}

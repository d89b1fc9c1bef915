package io.sluice.pool;

import java.time.Duration;

/**
 * An acquire waited {@link PoolConfig#connectionTimeout()} without getting a slot. When
 * connects were failing meanwhile (the pool backing off), the cause is the last failure.
 *
 * <p><b>Thread-safety:</b> immutable.
 */
public final class PoolTimeoutException extends PoolException {

    private final Duration waited;

    PoolTimeoutException(String poolName, Duration waited, String state) {
        this(poolName, waited, state, null);
    }

    /** With {@code connectFailure}: the pool was backing off after failed connects while the caller waited. */
    PoolTimeoutException(String poolName, Duration waited, String state, Throwable connectFailure) {
        super(poolName, "pool '" + poolName + "': no connection slot within " + waited.toMillis()
                + " ms (" + state + ")" + (connectFailure == null ? "" : "; connects are failing: " + connectFailure),
                connectFailure);
        this.waited = waited;
    }

    /** How long the acquire waited. */
    public Duration waited() {
        return waited;
    }
}

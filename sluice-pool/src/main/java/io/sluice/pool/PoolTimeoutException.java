package io.sluice.pool;

import java.time.Duration;

/**
 * An acquire waited {@link PoolConfig#connectionTimeout()} without getting a slot.
 *
 * <p><b>Thread-safety:</b> immutable.
 */
public final class PoolTimeoutException extends PoolException {

    private final Duration waited;

    PoolTimeoutException(String poolName, Duration waited, String state) {
        super(poolName, "pool '" + poolName + "': no connection slot within " + waited.toMillis()
                + " ms (" + state + ")", null);
        this.waited = waited;
    }

    /** How long the acquire waited. */
    public Duration waited() {
        return waited;
    }
}

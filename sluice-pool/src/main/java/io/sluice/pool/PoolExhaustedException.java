package io.sluice.pool;

/**
 * An acquire was refused at once because {@link PoolConfig#maxPending()} callers were
 * already waiting.
 *
 * <p><b>Thread-safety:</b> immutable.
 */
public final class PoolExhaustedException extends PoolException {

    PoolExhaustedException(String poolName, int maxPending, int maxConnections) {
        super(poolName, "pool '" + poolName + "' exhausted: " + maxPending
                + " callers already waiting (maxPending=" + maxPending + ", maxConnections="
                + maxConnections + ")", null);
    }
}

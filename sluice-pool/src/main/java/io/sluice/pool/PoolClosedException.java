package io.sluice.pool;

/**
 * The pool was closed before or while the acquire waited.
 *
 * <p><b>Thread-safety:</b> immutable.
 */
public final class PoolClosedException extends PoolException {

    PoolClosedException(String poolName) {
        super(poolName, "pool '" + poolName + "' is closed", null);
    }
}

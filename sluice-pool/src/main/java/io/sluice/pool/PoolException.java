package io.sluice.pool;

/**
 * Why an acquire failed. The hierarchy is sealed so that callers can handle every case.
 * Messages name the pool and the limit that was hit.
 *
 * <p><b>Thread-safety:</b> immutable once constructed.
 */
public abstract sealed class PoolException extends RuntimeException
        permits PoolTimeoutException, PoolExhaustedException, PoolClosedException, ConnectFailedException {

    private final String poolName;

    PoolException(String poolName, String message, Throwable cause) {
        super(message, cause);
        this.poolName = poolName;
    }

    /** The name of the pool that raised it. */
    public String poolName() {
        return poolName;
    }
}

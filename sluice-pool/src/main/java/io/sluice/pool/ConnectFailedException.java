package io.sluice.pool;

/**
 * Opening a connection failed on every attempt (1 + {@link PoolConfig#maxRetries()}, or one
 * when the failure is not retryable) and no other connection could serve the waiting
 * acquire; or the pool is backing off after such a failure and the pause outlasts the
 * acquire's timeout, with nothing open that could serve it. The cause is the last attempt's
 * failure.
 *
 * <p><b>Thread-safety:</b> immutable.
 */
public final class ConnectFailedException extends PoolException {

    private final int attempts;

    ConnectFailedException(String poolName, int attempts, Throwable cause) {
        super(poolName, "pool '" + poolName + "': connect failed after " + attempts + " attempt"
                + (attempts == 1 ? "" : "s") + ": " + cause, cause);
        this.attempts = attempts;
    }

    /** How many connect attempts were made. */
    public int attempts() {
        return attempts;
    }
}

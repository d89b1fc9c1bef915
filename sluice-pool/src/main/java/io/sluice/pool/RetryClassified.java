package io.sluice.pool;

/**
 * A failure that knows whether another attempt could succeed. When a connect attempt
 * fails with (or because of) a failure answering {@code retryable() == false} — the server
 * refused our credentials, a WebSocket upgrade was answered 401, a certificate is not
 * trusted — the pool does not retry it: the waiters fail at once instead of after
 * maxRetries backoffs, and the upstream is not sent the same rejected request again.
 *
 * <p>Implemented by exception classes; the pool looks at the failure and its causes and
 * obeys the first one that implements this interface.
 *
 * <p><b>Thread-safety:</b> implementations are exceptions, immutable once thrown.
 */
public interface RetryClassified {

    /** Whether the same operation, attempted again, may succeed. */
    boolean retryable();
}

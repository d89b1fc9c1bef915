package io.sluice.http.internal.client;

import io.sluice.http.Limits;
import io.sluice.http.Timeouts;
import io.sluice.http.retry.StatusRetryPolicy;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What every call of one client shares: default timeouts, limits, the status retry policy,
 * the scheduler for deadlines and retry delays, and the executor that completes the
 * futures handed to callers (so caller continuations never run on an event loop).
 *
 * <p><b>Thread-safety:</b> immutable. <b>Ownership:</b> borrows the executors from the client.
 *
 * @param acquireTimeout the pool's connectionTimeout, for ACQUIRE errors
 * @param delayed        the calls waiting out a status retry's delay, failed when the client closes
 * @param decompress     inflate gzip/deflate bodies of requests that carried no accept-encoding of their own
 *                       (the transport offered them)
 * @param attemptInterceptors run before every attempt, in order (empty: none)
 */
public record ClientContext(Timeouts timeouts, Limits limits, StatusRetryPolicy statusRetries,
                            ScheduledExecutorService scheduler, Executor callbacks, Duration acquireTimeout,
                            DelayedAttempts delayed, boolean decompress,
                            java.util.List<io.sluice.http.RequestInterceptor> attemptInterceptors) {
}

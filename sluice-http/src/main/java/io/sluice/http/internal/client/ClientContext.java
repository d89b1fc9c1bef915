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
 * @param listeners      make each call's {@link io.sluice.http.CallListener}s, in order (empty: none)
 * @param listenerWarned set by the first listener exception logged, so a broken listener warns once per client
 * @param admission      asked before every attempt (a rate limiter); null when the client has none
 * @param calls          the calls started and not yet ended, for the client's graceful close (each call leaves it
 *                       once, when it ends)
 */
public record ClientContext(Timeouts timeouts, Limits limits, StatusRetryPolicy statusRetries,
                            ScheduledExecutorService scheduler, Executor callbacks, Duration acquireTimeout,
                            DelayedAttempts delayed, boolean decompress,
                            java.util.List<io.sluice.http.RequestInterceptor> attemptInterceptors,
                            java.util.List<io.sluice.http.CallListener.Factory> listeners,
                            java.util.concurrent.atomic.AtomicBoolean listenerWarned,
                            io.sluice.http.RequestAdmission admission, CallsInFlight calls) {

    /**
     * The listener of a call on {@code route}: {@link io.sluice.http.CallListener#NONE} (nothing allocated) when
     * the client has no listener and wire logging is off; otherwise the user's, guarded so that what it throws
     * never changes the call, with the wire log in front of it when {@code io.sluice.http.wire} is at DEBUG.
     */
    public io.sluice.http.CallListener listenerFor(String route, io.sluice.http.HttpRequest request) {
        return listenerFor(route, request, io.sluice.http.CallListener.NONE);
    }

    /** As {@link #listenerFor(String, io.sluice.http.HttpRequest)}, with {@code first} (the call's admission) ahead of the factories'. */
    public io.sluice.http.CallListener listenerFor(String route, io.sluice.http.HttpRequest request,
                                                   io.sluice.http.CallListener first) {
        io.sluice.http.CallListener user = first == null || first == io.sluice.http.CallListener.NONE
                ? io.sluice.http.CallListener.NONE : new GuardedCallListener(first, route, listenerWarned);
        for (io.sluice.http.CallListener.Factory f : listeners) {
            io.sluice.http.CallListener made;
            try {
                made = f.create(request.route(), request);
            } catch (Exception e) { // checked ones too (Kotlin, sneaky throws)
                GuardedCallListener.warnOnce(listenerWarned, route, "create", e);
                continue;
            }
            if (made != null && made != io.sluice.http.CallListener.NONE) {
                io.sluice.http.CallListener guarded = new GuardedCallListener(made, route, listenerWarned);
                user = user == io.sluice.http.CallListener.NONE ? guarded : new CallListeners(user, guarded);
            }
        }
        return WireLog.enabled() ? new WireLog(route, request, user) : user;
    }
}

package io.sluice.http.internal.client;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.sluice.http.CallListener;
import io.sluice.http.Headers;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.Protocol;
import io.sluice.http.RequestTimeoutException;
import io.sluice.http.SluiceHttpException;
import io.sluice.http.StreamingResponse;
import io.sluice.http.retry.RetryDecision;
import io.sluice.http.retry.TransportRetryRules;
import io.sluice.http.internal.transport.ConnectionClosedException;
import io.sluice.http.internal.transport.Exchange;
import io.sluice.http.internal.transport.ExchangeListener;
import io.sluice.http.internal.transport.HttpConnection;
import io.sluice.http.internal.transport.UnprocessedRequestException;
import io.sluice.pool.Lease;
import io.sluice.pool.Pool;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request from the caller's point of view: acquires a slot, runs an attempt on it,
 * and decides what happens when the attempt fails or answers with a retryable status.
 *
 * <ul>
 *   <li>Transport replays (always on, {@link TransportRetryRules}): streams the server never
 *   processed (GOAWAY, REFUSED_STREAM, stream limit) and the stale-connection case, each on
 *   a newly acquired slot and only before any response byte.</li>
 *   <li>Status retries ({@link io.sluice.http.retry.StatusRetryPolicy}): decided on the
 *   response head, before any body byte reaches the caller; the error body is read and
 *   dropped (so an HTTP/1.1 connection stays reusable) and the request sent again after
 *   the delay, never past the deadline.</li>
 *   <li>Timeouts: HEADERS from the attempt's start to its response head, BODY_IDLE in
 *   {@link ResponseBody}, TOTAL over everything; ACQUIRE and CONNECT come from the pool.</li>
 * </ul>
 *
 * <p>Each attempt's lease ends exactly once, when its exchange reaches its terminal
 * callback: closed, or invalidated when an exclusive (HTTP/1.1) connection is no longer
 * usable. An HTTP/2 lease is always closed: a draining connection must outlive its
 * other streams, and the pool closes it on its last release.
 *
 * <p>It stays above 500 lines because its parts are one state machine: the attempt (on its
 * connection's loop), the replay decision, the status retry with its error-body drain, and the
 * deadline and cancel all settle the same call exactly once, and each needs the others' state
 * (settled, current attempt, replay budgets) at the moment it acts.
 *
 * <p><b>Thread-safety:</b> attempts run one after another; the fields crossing threads
 * are volatile or handed over through futures and executors. The caller's future is
 * completed on the callback executor.
 */
public final class Call {

    private static final Logger LOG = LoggerFactory.getLogger(Call.class);
    /** An error body larger than this is not worth reading to keep the connection; the attempt is cancelled instead. */
    private static final int MAX_DISCARD = 64 * 1024;
    /**
     * Replays of requests that were never sent because their pooled connection was already closed. Bounded only
     * against a pathological loop; in practice each replay consumes one dead connection, which leaves the pool.
     */
    private static final int MAX_NOT_SENT_REPLAYS = 16;
    /** The mean wait before a replay after a lost connection: 25 ms, jittered ±50 %. */
    static final long STALE_REPLAY_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(25);

    private final Pool<HttpConnection> pool;
    private final String route;
    private final HttpRequest request;
    private final ClientContext ctx;
    private final RouteGuard guard;
    /** This call is the one probe request of an ejected route. */
    private volatile boolean probe;
    private final Duration headersTimeout;
    private final Duration bodyIdleTimeout;
    private final Duration totalTimeout;
    private final long startNanos = System.nanoTime();
    private final CompletableFuture<StreamingResponse> result;
    /**
     * {@code send()}: the whole response, aggregated on the event loop (internal code only) and
     * handed to the caller on the callback executor in one hop; null for {@code stream()}.
     */
    private final CompletableFuture<HttpResponse> whole;
    private final AtomicBoolean settled = new AtomicBoolean();
    /** A failure after the response head (body or aggregation) was counted: each call counts at most one. */
    private final AtomicBoolean bodyFailureCounted = new AtomicBoolean();

    /** This call's admission ({@link io.sluice.http.RequestAdmission#forCall}); null when the client has none. */
    private final io.sluice.http.RequestAdmission.CallAdmission admission;
    /** This call's events ({@link CallListener#NONE} when nobody listens: then each event is an empty call). */
    private final CallListener listener;
    /** Set by the call's last event (end, failure or cancel), which comes once. */
    private final AtomicBoolean listenerEnded = new AtomicBoolean();
    /** Attempts started (1 for the first); the attempt in flight's {@link System#nanoTime()} at its acquire. */
    private volatile int attempts;
    private volatile long acquireStartNanos;
    /** Where a failure before the response head happens: ACQUIRE until a slot is leased, then REQUEST. */
    private volatile CallListener.Phase phase = CallListener.Phase.ACQUIRE;

    private volatile int statusAttempts;
    private volatile int unprocessedReplays;
    private volatile int staleReplays;
    private volatile int notSentReplays;
    private volatile Attempt current;
    private volatile CompletableFuture<Lease<HttpConnection>> acquiring;
    /** Set when the total deadline passed, before it cancels the acquire: that cancellation is not a failure of its own. */
    private volatile boolean deadlinePassed;
    /** Set when this request's own acquire bound passed; the cancelled acquire is then not a failure of its own. */
    private volatile RequestTimeoutException acquireBoundHit;
    /** The attempt's admission while it waits for one ({@link io.sluice.http.RequestAdmission}); cancelled if the call ends. */
    private volatile CompletableFuture<Void> admitting;
    private volatile ScheduledFuture<?> totalTimer;
    private volatile boolean finished;
    /** The status of the response handed to the caller (0 before): its body's end records the route's outcome. */
    private volatile int deliveredStatus;
    /** While the call waits out a status retry's delay or a replay's back-off: its entry in the client's registry. */
    private volatile Runnable delayedClose;
    /**
     * Which of the call's two ends have come ({@link #EXCHANGE_OVER}, {@link #FUTURE_DONE}): the call leaves the
     * client's {@link CallsInFlight} when both have, so a graceful close waits for the exchange and for the caller's
     * future, whichever is last (a failure ends the exchange before its future is completed on the callback
     * executor; a stream's future completes at the head, long before its body ends).
     */
    private final java.util.concurrent.atomic.AtomicInteger ends = new java.util.concurrent.atomic.AtomicInteger();
    private static final int EXCHANGE_OVER = 1;
    private static final int FUTURE_DONE = 2;
    private static final int BOTH = EXCHANGE_OVER | FUTURE_DONE;

    private Call(Pool<HttpConnection> pool, String route, HttpRequest request, ClientContext ctx, RouteGuard guard,
                 boolean aggregate) {
        this.result = aggregate ? null : new CompletableFuture<>();
        this.whole = aggregate ? new CompletableFuture<>() : null;
        this.pool = pool;
        this.guard = guard;
        this.route = route;
        this.request = request;
        this.ctx = ctx;
        this.headersTimeout = request.headersTimeout() != null ? request.headersTimeout() : ctx.timeouts().headers();
        this.bodyIdleTimeout = request.bodyIdleTimeout() != null ? request.bodyIdleTimeout() : ctx.timeouts().bodyIdle();
        this.totalTimeout = request.totalTimeout() != null ? request.totalTimeout() : ctx.timeouts().total();
        this.admission = ctx.admission() == null ? null : ctx.admission().forCall(request);
        this.listener = ctx.listenerFor(route, request,
                admission == null ? CallListener.NONE : admission.listener());
    }

    /**
     * Starts the request; the future completes with the response head (or the failure) on the callback executor.
     * The caller has counted the call in {@code ctx.calls()} ({@link CallsInFlight#enter()}): from here the call
     * gives that count back, once, when it ends.
     */
    public static CompletableFuture<StreamingResponse> start(Pool<HttpConnection> pool, String route, HttpRequest request,
                                                             ClientContext ctx, RouteGuard guard) {
        Call c = create(pool, route, request, ctx, guard, false);
        return c.begin() ? c.result : CompletableFuture.failedFuture(c.ejected());
    }

    /**
     * Starts the request and reads the whole body ({@code send()}). The body is aggregated on
     * the connection's event loop by {@link DefaultStreamingResponse#aggregate()} (no caller
     * code runs there), and the future completes once, on the callback executor, with the
     * whole response or the failure: one executor hop per request instead of one for the head
     * plus one per body read. Cancelling the future stops the request (the stream is reset or
     * the HTTP/1.1 connection closed). Counted as {@link #start} says.
     */
    public static CompletableFuture<HttpResponse> startAggregated(Pool<HttpConnection> pool, String route,
                                                                  HttpRequest request, ClientContext ctx,
                                                                  RouteGuard guard) {
        Call c = create(pool, route, request, ctx, guard, true);
        return c.begin() ? c.whole : CompletableFuture.failedFuture(c.ejected());
    }

    private static Call create(Pool<HttpConnection> pool, String route, HttpRequest request, ClientContext ctx,
                               RouteGuard guard, boolean aggregate) {
        try {
            return new Call(pool, route, request, ctx, guard, aggregate);
        } catch (RuntimeException | Error e) {
            ctx.calls().exit(); // no call to give the count back (the admission's forCall threw): the caller sees this
            throw e;
        }
    }

    /**
     * One of the call's two ends has come (see {@link #ends}); when the other has too, the call leaves the client's
     * count of calls in flight. Each end counts once, however often it is reported.
     */
    private void ended(int end) {
        int before = ends.getAndUpdate(e -> e | end);
        if (before != BOTH && (before | end) == BOTH) {
            ctx.calls().exit();
        }
    }

    /** The route is ejected: the call fails at once, and its listener hears of it. */
    private SluiceHttpException ejected() {
        SluiceHttpException e = guard.ejectedError();
        if (lastEvent()) {
            listener.callFailed(CallListener.Phase.ACQUIRE, e);
        }
        return e;
    }

    /**
     * Whether the caller may deliver the call's last event: true once (an end, a failure and a cancel may race),
     * never without a listener. A plain check rather than a callback, so that nothing is allocated for it.
     */
    private boolean lastEvent() {
        return listener != CallListener.NONE && listenerEnded.compareAndSet(false, true);
    }

    /**
     * Whether events may still be delivered: false once the last one went out (a deadline or the caller's cancel
     * may end the call from another thread while its attempt's loop is still reading the response).
     */
    private boolean live() {
        return !listenerEnded.get();
    }

    /**
     * Delivers a last event that ends the call from outside its attempt's loop (a deadline, the caller's cancel,
     * a failure on the pool's thread) on that loop, so that it never runs beside the loop's own events; inline
     * when there is no attempt, on the loop itself, or when the loop takes no more tasks.
     */
    private void lastEventOnLoop(Runnable event) {
        Attempt a = current;
        if (a != null && !a.loop.inEventLoop() && !a.loop.isShuttingDown()) {
            try {
                a.loop.execute(event);
                return;
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // the loop closed: deliver it here
            }
        }
        event.run();
    }

    private long sinceStart() {
        return System.nanoTime() - startNanos;
    }

    /** False when the route is ejected (the call must fail fast without starting). */
    private boolean begin() {
        listener.callStart(request);
        RouteGuard.Admission admission = guard.admit();
        if (admission == RouteGuard.Admission.EJECTED) {
            // Fail fast: every request would only add load to an upstream that keeps failing.
            ended(BOTH);
            return false;
        }
        probe = admission == RouteGuard.Admission.PROBE;
        CompletableFuture<?> out = whole != null ? whole : result;
        // Before anything can end the call (the timer's refusal below fails it at once). A cancel is the caller
        // stopping the call; any completion is one of the call's two ends.
        out.whenComplete((r, e) -> {
            if (e instanceof CancellationException) {
                cancelledByCaller();
            }
            ended(FUTURE_DONE);
        });
        if (totalTimeout != null) {
            try {
                totalTimer = ctx.scheduler().schedule(this::totalTimedOut, totalTimeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                // The client closed between send()'s check and here (or its shared timer did): end the call typed,
                // its listener included, instead of throwing from send().
                fail(new io.sluice.http.ClientClosedException(route, "the client was closed as the request started",
                        closing));
                return true;
            }
        }
        attempt();
        return true;
    }

    // ------------------------------------------------------------------ attempts

    private void attempt() {
        if (settled.get()) {
            return;
        }
        if (admission == null) {
            acquire();
            return;
        }
        int attempt = attempts + 1;
        phase = CallListener.Phase.ADMISSION;
        CompletableFuture<Void> admitted;
        try {
            admitted = admission.admit(attempt);
        } catch (RuntimeException e) {
            fail(new io.sluice.http.InvalidRequestException(route, "the request admission failed: " + e, e));
            return;
        }
        if (admitted.isDone() && !admitted.isCompletedExceptionally()) {
            acquire(); // room at once: no hop, no allocation
            return;
        }
        admitting = admitted;
        // A waiting attempt continues on the client's callback executor, not on the thread that admitted it (a
        // rate limiter's timer serves every budget: the pool acquire and the listener's events must not hold it);
        // inline if the executor refuses (the client closing), so the call still ends.
        admitted.whenCompleteAsync((v, e) -> {
            admitting = null;
            if (e != null) {
                Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                        ? e.getCause() : e;
                if (!(cause instanceof CancellationException)) { // cancelled by us: the call already ended
                    fail(cause instanceof SluiceHttpException s ? s
                            : new io.sluice.http.InvalidRequestException(route, "the request admission failed: "
                            + cause, cause));
                }
            } else if (settled.get()) {
                admission.abandoned(attempt); // admitted as the call ended: give the room back
            } else {
                acquire();
            }
        }, continuation -> {
            try {
                ctx.callbacks().execute(continuation);
            } catch (java.util.concurrent.RejectedExecutionException refused) {
                continuation.run();
            }
        });
        if (settled.get()) {
            admitted.cancel(false); // ended while we registered: the cancel in totalTimedOut/cancelledByCaller missed it
        }
    }

    /** The admitted attempt got no connection: the admission gets its room back. */
    private void notSent() {
        if (admission != null) {
            admission.abandoned(attempts);
        }
    }

    private void acquire() {
        phase = CallListener.Phase.ACQUIRE;
        acquireStartNanos = System.nanoTime();
        ++attempts;
        if (live()) {
            listener.acquireStart(attempts);
        }
        CompletableFuture<Lease<HttpConnection>> f = pool.acquire();
        acquiring = f;
        if (f.isDone()) {
            onAcquired(f);
            return;
        }
        Duration bound = request.acquireTimeout();
        java.util.concurrent.ScheduledFuture<?> timer = bound == null ? null
                : ctx.scheduler().schedule(() -> acquireTimedOut(f, bound), bound.toNanos(), TimeUnit.NANOSECONDS);
        f.whenComplete((l, e) -> {
            if (timer != null) {
                timer.cancel(false);
            }
            onAcquired(f);
        });
    }

    /**
     * The request's own acquire bound passed before a slot came: the call fails with ACQUIRE and gives up
     * its place in the queue (the pool hands a slot delivered at the same moment back: no leak).
     */
    private void acquireTimedOut(CompletableFuture<Lease<HttpConnection>> f, Duration bound) {
        if (f.isDone() || settled.get()) {
            return;
        }
        RequestTimeoutException timedOut = new RequestTimeoutException(route, RequestTimeoutException.Phase.ACQUIRE,
                bound, "no connection within this request's acquire timeout", null);
        acquireBoundHit = timedOut;
        // Cancel first: cancel() runs the pool's own completion (which takes the waiter out of its queue) before it
        // returns, so when the caller hears of the timeout the queue has already forgotten the request.
        // onAcquired sees acquireBoundHit and leaves the failure to this method.
        f.cancel(false);
        fail(timedOut);
        // The pool may have delivered the lease between the isDone() check and the cancel: an attempt started on it
        // is stopped with the call (read after the call is settled, as in totalTimedOut).
        Attempt a = current;
        if (a != null && f.isDone() && !f.isCancelled()) {
            a.stop(timedOut);
        }
    }

    private void onAcquired(CompletableFuture<Lease<HttpConnection>> f) {
        Lease<HttpConnection> lease;
        try {
            lease = f.join();
        } catch (RuntimeException e) {
            notSent();
            if (!deadlinePassed && (acquireBoundHit == null || !f.isCancelled())) {
                fail(Errors.map(route, e, ctx.acquireTimeout()));
            } // else: acquireTimedOut cancelled it and fails the call once the pool let the waiter go
            return;
        }
        if (settled.get()) {
            lease.close(); // timed out or cancelled while acquiring
            notSent();
            return;
        }
        phase = CallListener.Phase.REQUEST;
        // Claimed by every call, listened to or not: a call whose factory declined it still used the connection.
        boolean fresh = lease.connection().claimFirstUse();
        if (listener != CallListener.NONE && live()) {
            HttpConnection c = lease.connection();
            if (fresh && c.setup() != null) {
                listener.connectionSetUp(c.setup());
            }
            listener.acquireEnd(System.nanoTime() - acquireStartNanos, c.info(), fresh);
        }
        HttpRequest sent = request;
        if (!ctx.attemptInterceptors().isEmpty()) {
            try {
                sent = io.sluice.http.RequestInterceptor.applyAll(ctx.attemptInterceptors(), request);
            } catch (io.sluice.http.InvalidRequestException e) {
                lease.close(); // nothing was sent on it
                fail(e);
                return;
            }
        }
        if (listener != CallListener.NONE && live()) {
            sent = listener.propagate(sent); // a trace context for this attempt (guarded: never fails the call)
        }
        Attempt a = new Attempt(lease, sent);
        current = a;
        a.begin();
    }

    /** An attempt failed before its response head; replay it when the transport rules allow. */
    private void attemptFailed(Attempt a, Throwable t) {
        if (settled.get()) {
            return;
        }
        TransportRetryRules.Failure kind;
        ConnectionClosedException closed = null;
        if (t instanceof UnprocessedRequestException u && u.reason() == UnprocessedRequestException.Reason.NOT_SENT
                && notSentReplays < MAX_NOT_SENT_REPLAYS) {
            // Not one byte left: the pooled connection was found dead at the last moment (its close raced our
            // acquire). Free to replay, and not the peer refusing work, so it does not spend the REFUSED_STREAM
            // budget: after a mass close (a server restart, killConnections) each dead idle connection costs one.
            notSentReplays++;
            notSent(); // never reached the server: its admission's room comes back before the replay takes its own
            guard.replayed("not_sent");
            if (live()) {
                listener.replay("not_sent", t);
            }
            LOG.debug("{}: replaying {} {}: connection found closed before the request was sent", route,
                    request.method(), safeTarget());
            attempt();
            return;
        }
        if (t instanceof UnprocessedRequestException u && u.reason() == UnprocessedRequestException.Reason.NOT_SENT) {
            fail(Errors.map(route, t, ctx.acquireTimeout())); // its own budget is spent: not a refused stream
            return;
        }
        if (t instanceof UnprocessedRequestException u) {
            kind = u.reason() == UnprocessedRequestException.Reason.GOAWAY
                    ? TransportRetryRules.Failure.GOAWAY_UNPROCESSED : TransportRetryRules.Failure.REFUSED_STREAM;
        } else if (t instanceof ConnectionClosedException c) {
            kind = TransportRetryRules.Failure.CONNECTION_LOST;
            closed = c;
        } else {
            fail(Errors.map(route, t, ctx.acquireTimeout()));
            return;
        }
        boolean lost = kind == TransportRetryRules.Failure.CONNECTION_LOST;
        TransportRetryRules.FailedAttempt fa = TransportRetryRules.FailedAttempt.builder(request.method())
                .connectionReused(a.exchange.connectionReused())
                .requestFullyWritten(closed != null && closed.requestWritten())
                .responseBytesReceived(closed != null && !closed.beforeResponse())
                .bodyBytesDelivered(false)
                .requestBodyReplayable(true) // bytes are kept; publishers must be re-subscribable (HttpRequest's contract)
                .idempotent(request.idempotent())
                .replaysSoFar(lost ? staleReplays : unprocessedReplays)
                .build();
        RetryDecision d = TransportRetryRules.decide(kind, fa);
        if (!d.retry()) {
            LOG.debug("{}: {} {} not replayed: {}", route, request.method(), safeTarget(), d.reason());
            fail(Errors.map(route, t, ctx.acquireTimeout()));
            return;
        }
        if (lost) {
            staleReplays++;
        } else {
            unprocessedReplays++;
            notSent(); // the server provably never processed it (GOAWAY below its stream, REFUSED_STREAM)
        }
        String reason = kind == TransportRetryRules.Failure.CONNECTION_LOST
                ? (fa.requestFullyWritten() ? "stale_connection" : "not_fully_written")
                : kind == TransportRetryRules.Failure.GOAWAY_UNPROCESSED ? "goaway_unprocessed" : "refused_stream";
        guard.replayed(reason);
        if (live()) {
            listener.replay(reason, t);
        }
        LOG.debug("{}: replaying {} {}: {}", route, request.method(), safeTarget(), d.reason());
        // A lost connection or a GOAWAY seldom comes alone: a server restart resets or drains every
        // connection within a millisecond. Replaying at once, from this connection's failure callback,
        // picks a connection whose reset or GOAWAY is already waiting, unread, on a loop, and spends the
        // replay there (the bench's kill-everything fault failed up to 62 idempotent requests so).
        // Going once through every event loop first lets each finish the I/O it has ready, so the
        // connections that are already gone are out of the pool when the replay chooses one.
        if (!lost) {
            afterReadyIo(a.loop, this::attempt);
            return;
        }
        // A lost connection is often one of many a server is resetting one after another (a restart
        // or a load balancer closes its connections over a few milliseconds), and an idempotent
        // request has one replay for it. Waiting a short, jittered back-off (Envoy's retry back-off
        // starts at 25 ms) lets the rest of that sweep arrive before the replay chooses a connection,
        // and keeps the replays of many requests from landing together.
        long delayNanos = (long) (STALE_REPLAY_BACKOFF_NANOS * (0.5 + java.util.concurrent.ThreadLocalRandom.current()
                .nextDouble()));
        later(delayNanos, () -> afterReadyIo(a.loop, this::attempt), "waited to be replayed");
    }

    /**
     * Runs {@code task} after every event loop of {@code loop}'s group has run the tasks it has now,
     * which a Netty loop does only after processing the I/O events ready at that moment.
     */
    private static void afterReadyIo(io.netty.channel.EventLoop loop, Runnable task) {
        java.util.List<io.netty.util.concurrent.EventExecutor> loops = new java.util.ArrayList<>();
        loop.parent().forEach(loops::add);
        hop(loops, 0, task);
    }

    private static void hop(java.util.List<io.netty.util.concurrent.EventExecutor> loops, int i, Runnable task) {
        if (i == loops.size()) {
            task.run();
            return;
        }
        if (loops.get(i).isShuttingDown()) {
            hop(loops, i + 1, task); // a closing loop may drop what it accepts now; it has no I/O to wait for
            return;
        }
        try {
            loops.get(i).execute(() -> hop(loops, i + 1, task));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            hop(loops, i + 1, task); // a loop shutting down has no I/O left to wait for
        }
    }

    /** The target for logs: the URI with key-like query parameters ({@code ?api_key=}, {@code ?key=}) redacted. */
    private String safeTarget() {
        return io.sluice.http.spi.Redaction.redactUri(request.uri());
    }

    /** Decides a status retry on a response head; null when the response goes to the caller. */
    private RetryDecision statusRetry(int status, Headers headers) {
        if (status < 400 || !ctx.statusRetries().enabled() || !request.statusRetriesAllowed()) {
            return null;
        }
        Duration remaining = totalTimeout == null ? null
                : totalTimeout.minusNanos(System.nanoTime() - startNanos);
        RetryDecision d = ctx.statusRetries().decide(request.method(), request.idempotent(), status, headers::get,
                statusAttempts + 1, remaining, false);
        return d.retry() ? d : null;
    }

    private void retryLater(RetryDecision d) {
        if (settled.get()) {
            return;
        }
        statusAttempts++;
        LOG.debug("{}: retrying {} {}: {}", route, request.method(), safeTarget(), d.reason());
        long delay = d.delay().toNanos();
        if (delay <= 0) {
            attempt();
            return;
        }
        later(delay, this::attempt, "waited to be retried");
    }

    /**
     * Runs {@code then} after {@code delayNanos} on the client's scheduler. The client may close
     * during the delay: its scheduler then drops the task, and the registry of delayed calls fails
     * this call instead, so the caller's future always completes.
     */
    private void later(long delayNanos, Runnable then, String waitedFor) {
        AtomicBoolean due = new AtomicBoolean();
        java.util.concurrent.atomic.AtomicReference<ScheduledFuture<?>> task = new java.util.concurrent.atomic.AtomicReference<>();
        Runnable closed = () -> {
            ScheduledFuture<?> t = task.get();
            if (t != null) {
                t.cancel(false); // on shared resources the timer outlives this client: leave nothing in it
            }
            if (due.compareAndSet(false, true)) {
                fail(new io.sluice.http.ClientClosedException(route, "the client was closed while the request "
                        + waitedFor));
            }
        };
        if (!ctx.delayed().add(closed)) {
            closed.run();
            return;
        }
        delayedClose = closed;
        try {
            task.set(ctx.scheduler().schedule(() -> {
                ctx.delayed().remove(closed);
                delayedClose = null;
                if (due.compareAndSet(false, true)) {
                    then.run();
                }
            }, delayNanos, TimeUnit.NANOSECONDS));
            if (due.get()) {
                task.get().cancel(false); // closed while it was being scheduled
            }
        } catch (java.util.concurrent.RejectedExecutionException e) {
            ctx.delayed().remove(closed);
            closed.run();
        }
    }

    // ------------------------------------------------------------------ outcome

    private void deliver(DefaultStreamingResponse response) {
        if (!settled.compareAndSet(false, true)) {
            response.close();
            return;
        }
        deliveredStatus = response.status();
        guard.responded(response.status(), probe);
        if (whole != null) {
            // On the event loop: the aggregation below is our code; its ResponseBody completes inline.
            response.aggregate().whenComplete((r, e) -> handOver(() -> {
                if (e != null) {
                    bodyFailed(e);
                    whole.completeExceptionally(e);
                } else {
                    whole.complete(r);
                }
            }));
            return;
        }
        handOver(() -> {
            if (!result.complete(response)) {
                response.close(); // the caller cancelled meanwhile
            }
        });
    }

    private void fail(SluiceHttpException e) {
        if (!settled.compareAndSet(false, true)) {
            return;
        }
        guard.failed(e, probe);
        finish();
        if (listener != CallListener.NONE) {
            CallListener.Phase at = phase;
            lastEventOnLoop(() -> {
                if (lastEvent()) {
                    listener.callFailed(at, e);
                }
            });
        }
        CompletableFuture<?> out = whole != null ? whole : result;
        handOver(() -> out.completeExceptionally(e));
    }

    /**
     * Completes the caller's future on the callback executor, or on this thread when the executor refuses
     * the task (a caller's executor shut down, e.g. with the client, or saturated). The call is settled
     * before this runs, so nothing else would complete the future: a refused completion left it incomplete
     * for ever (the close-during-replay hang, with the cached pool that was the default executor, which
     * refused tasks once the client's close had shut it down).
     */
    private void handOver(Runnable completion) {
        try {
            ctx.callbacks().execute(completion);
        } catch (java.util.concurrent.RejectedExecutionException refused) {
            LOG.warn("{}: the callback executor refused to complete {} {} ({}); completing it on {}", route,
                    request.method(), safeTarget(), refused.toString(), Thread.currentThread().getName());
            completion.run();
        }
    }

    /**
     * The response failed after its head reached the caller (a reset or lost connection mid-body, a body-idle
     * timeout, a body over its limit): counted once per call, as failures before the head are. Caller
     * cancellations are not failures of the route.
     */
    private void bodyFailed(Throwable failure) {
        SluiceHttpException e = Errors.map(route, failure, null);
        if (e instanceof io.sluice.http.ClientClosedException || !bodyFailureCounted.compareAndSet(false, true)) {
            return;
        }
        guard.failedAfterHead(e);
    }

    /**
     * The exchange is over for good (body ended or failed, or the call failed): stop the deadline timer; one of the
     * call's two ends ({@link #ended}). May run more than once (a cancel after the body ended).
     */
    private void finish() {
        finished = true;
        Runnable d = delayedClose;
        if (d != null) {
            ctx.delayed().remove(d); // ended during its retry delay: the registry must not keep it
        }
        ScheduledFuture<?> t = totalTimer;
        if (t != null) {
            t.cancel(false);
        }
        ended(EXCHANGE_OVER);
    }

    private void totalTimedOut() {
        if (finished) {
            return;
        }
        RequestTimeoutException t = new RequestTimeoutException(route, RequestTimeoutException.Phase.TOTAL,
                totalTimeout, null);
        if (!settled.get()) {
            // Stop the admission and the acquire first, then fail: cancel() runs their own completions (a rate
            // limiter's waiter leaves its queue, the pool forgets the waiter, an admitted attempt gives its room back)
            // before the caller can hear of the deadline. deadlinePassed tells onAcquired the cancel is ours.
            deadlinePassed = true;
            CompletableFuture<Void> adm = admitting;
            if (adm != null) {
                adm.cancel(false);
            }
            CompletableFuture<Lease<HttpConnection>> acq = acquiring;
            if (acq != null) {
                acq.cancel(false);
            }
            fail(t);
            CompletableFuture<Lease<HttpConnection>> late = acquiring;
            if (late != null && late != acq) {
                late.cancel(false); // an admission that completed during the cancels above started one more acquire
            }
        }
        // Read after the call is settled: an attempt that started before this point is published in current (its
        // start task sees settled otherwise), so it is stopped with the call rather than left running.
        Attempt a = current;
        if (a != null) {
            a.stop(t);
        }
    }

    private void cancelledByCaller() {
        boolean first = !settled.getAndSet(true);
        // The admission and the acquire stop before the last event: an attempt admitted but not yet sent gives its
        // room back while the admission still knows the call (it forgets the call at the last event).
        CompletableFuture<Void> adm = admitting;
        if (adm != null) {
            adm.cancel(false);
        }
        CompletableFuture<Lease<HttpConnection>> acq = acquiring;
        if (acq != null) {
            acq.cancel(false);
        }
        if (first) {
            guard.abandoned(probe);
            if (listener != CallListener.NONE) {
                lastEventOnLoop(() -> {
                    if (lastEvent()) {
                        listener.callCancelled();
                    }
                });
            }
        }
        finish();
        Attempt a = current;
        if (a != null) {
            a.stop(new CancellationException("request cancelled by the caller"));
        }
    }

    /**
     * One attempt on one leased slot. Its callbacks run on the connection's event loop;
     * {@link #begin()} moves there before starting the exchange, so every field below is
     * written and read on that loop only.
     */
    private final class Attempt implements ExchangeListener {
        private final Lease<HttpConnection> lease;
        private final EventLoop loop;
        private Exchange exchange;
        private boolean headers;
        private boolean terminal;
        private RetryDecision retryAfterBody;
        private long discarded;
        /** When the error body being drained last produced bytes; the drain ends when it is quiet for body-idle. */
        private long lastDrainNanos;
        private io.netty.util.concurrent.ScheduledFuture<?> drainTimer;
        private ResponseBody body;
        /** What this attempt sends: the call's request after the attempt interceptors. */
        private final HttpRequest sent;
        /** Inflates the body when the transport offered gzip/deflate and the server used one; else null. Loop-confined. */
        private BodyDecoder decoder;
        /** Why decoding failed, once it did: the rest of the body is dropped and the caller gets this. Loop-confined. */
        private SluiceHttpException decodeFailure;
        private io.netty.util.concurrent.ScheduledFuture<?> headersTimer;
        /** The headers timer was kept at the head as the body's first idle check (see {@link #onHeaders}). */
        private boolean timerWatchesBody;
        private final AtomicBoolean leaseEnded = new AtomicBoolean();
        /** Wire bytes of the caller's response body so far; whether the first has come. Loop-confined. */
        private long bodyBytes;
        private boolean bodyStarted;

        Attempt(Lease<HttpConnection> lease, HttpRequest sent) {
            this.lease = lease;
            this.sent = sent;
            this.loop = lease.connection().channel().eventLoop();
        }

        void begin() {
            Runnable start = () -> {
                if (settled.get()) {
                    // Cancelled or timed out between the acquire and this task: the stop() that raced us found no
                    // exchange to cancel, so nothing may be sent now (a cancelled POST must not reach the server).
                    terminal = true;
                    endLease();
                    return;
                }
                // The one hop of a request onto its connection's loop: the handle first, so that a
                // failure reported while sending finds it; the timer before the send, so that such a
                // failure cancels it (onFailure is terminal).
                HttpConnection connection = lease.connection();
                if (live()) {
                    listener.requestSending(sent);
                }
                exchange = connection.exchange(sent, this);
                headersTimer = loop.schedule(this::headersTimedOut, headersTimeout.toNanos(), TimeUnit.NANOSECONDS);
                connection.send(exchange);
            };
            try {
                if (loop.isShuttingDown()) {
                    // A closing loop may accept a task and drop it unrun: treat it as refused.
                    throw new java.util.concurrent.RejectedExecutionException("event loop is shutting down");
                }
                loop.execute(start);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // The client closed under the lease: its event loops take no more tasks, and nothing was sent.
                terminal = true;
                endLease();
                fail(new io.sluice.http.ClientClosedException(route, "the client was closed while the request "
                        + "was being started"));
            }
        }

        /** Stops this attempt from any thread (deadline, caller cancel). */
        void stop(Throwable reason) {
            loop.execute(() -> {
                if (terminal) {
                    return;
                }
                if (body != null) {
                    body.fail(reason instanceof SluiceHttpException s ? s : Errors.map(route, reason, null));
                }
                if (exchange != null) {
                    exchange.cancel(reason);
                }
            });
        }

        private void headersTimedOut() {
            if (terminal) {
                return;
            }
            if (headers) {
                if (timerWatchesBody && body != null) {
                    timerWatchesBody = false;
                    body.checkIdleNow(route, bodyIdleTimeout); // arms the body's own watchdog when not idle
                }
                return;
            }
            RequestTimeoutException t = new RequestTimeoutException(route, RequestTimeoutException.Phase.HEADERS,
                    headersTimeout, null);
            fail(t); // before the cancel, so the resulting failure is not taken for a replayable one
            exchange.cancel(t);
        }

        @Override
        public void onRequestWritten() {
            if (!terminal && !headers && live()) { // not after the response head (documented: skipped then)
                listener.requestSent();
            }
        }

        @Override
        public void onHeaders(int status, Headers h) {
            headers = true;
            if (live()) {
                listener.responseHeaders(status, h, sinceStart());
            }
            io.netty.util.concurrent.ScheduledFuture<?> timer = headersTimer;
            // Keep the pending headers timer as the body's first idle check when it is due no later than the
            // idle bound would be (an early check re-arms for the rest): one schedule and one cancel per
            // request instead of two of each on this loop's timer queue.
            boolean keep = timer != null && !settled.get() && timer.getDelay(TimeUnit.NANOSECONDS) <= bodyIdleTimeout.toNanos();
            if (timer != null && !keep) {
                timer.cancel(false);
            }
            if (settled.get()) {
                exchange.cancel(new CancellationException("call already settled"));
                return;
            }
            RetryDecision d = statusRetry(status, h);
            if (d != null) {
                if (live()) {
                    listener.statusRetry(status, d.delay());
                }
                retryAfterBody = d; // read and drop the error body, then retry
                watchDrain();
                return;
            }
            Protocol protocol = lease.connection().protocol();
            // The transport offered gzip and deflate when the caller set no accept-encoding: inflate what came.
            decoder = ctx.decompress() && !sent.headers().contains("accept-encoding")
                    && !"HEAD".equalsIgnoreCase(sent.method()) && status != 204 && status != 304
                    ? BodyDecoder.forResponse(route, h, exchange, ctx.limits().maxBodyBytes()) : null;
            if (decoder != null) {
                h = BodyDecoder.decodedHeaders(h);
            }
            // send(): the body's only reader is the aggregator, which runs inline on this loop.
            body = new ResponseBody(decoder != null ? decoder.exchange() : exchange,
                    whole != null ? Runnable::run : ctx.callbacks(), () -> { }, Call.this::bodyFailed);
            if (keep) {
                timerWatchesBody = true;
            } else {
                body.watchIdle(route, bodyIdleTimeout);
            }
            deliver(new DefaultStreamingResponse(status, h, protocol, body, route, ctx));
        }

        @Override
        public void onData(ByteBuf data) {
            if (body != null) {
                int wire = data.readableBytes();
                if (!bodyStarted && wire > 0) {
                    bodyStarted = true;
                    if (live()) {
                        listener.firstBodyByte(sinceStart());
                    }
                }
                bodyBytes += wire;
                if (decoder == null) {
                    body.onData(data);
                } else if (decodeFailure == null) {
                    try {
                        decoder.decode(data, body::onData);
                    } catch (SluiceHttpException e) {
                        // A corrupt stream or a bomb: the exchange ends with it (HTTP/2 resets the stream,
                        // HTTP/1.1 closes the connection) and the caller gets it after what was inflated.
                        decodeFailure = e;
                        exchange.cancel(e); // first: nothing thrown while cleaning up may skip the stream's reset
                        decoder.release();
                    }
                } else {
                    data.release();
                }
                return;
            }
            int n = data.readableBytes();
            data.release();
            exchange.bytesConsumed(n);
            discarded += n;
            lastDrainNanos = System.nanoTime();
            if (discarded > MAX_DISCARD) {
                exchange.cancel(new CancellationException("error body too large to drain"));
            }
        }

        /**
         * Bounds the drain of an error body before a status retry by the body-idle timeout: a server that sends
         * part of its 503 body and then goes quiet must not hold the call, its lease and (HTTP/2) its stream slot
         * for ever. When the body stalls the exchange is cancelled and the status retry goes ahead on another
         * connection (the decision to retry was made on the head; the body does not change it).
         */
        private void watchDrain() {
            lastDrainNanos = System.nanoTime();
            drainTimer = loop.schedule(this::drainCheck, bodyIdleTimeout.toNanos(), TimeUnit.NANOSECONDS);
        }

        private void drainCheck() {
            if (terminal) {
                return;
            }
            long quiet = System.nanoTime() - lastDrainNanos;
            long idle = bodyIdleTimeout.toNanos();
            if (quiet >= idle) {
                LOG.debug("{}: error body of {} {} stalled for {} ms while draining; abandoning it", route,
                        request.method(), safeTarget(), bodyIdleTimeout.toMillis());
                exchange.cancel(new RequestTimeoutException(route, RequestTimeoutException.Phase.BODY_IDLE,
                        bodyIdleTimeout, null));
            } else {
                drainTimer = loop.schedule(this::drainCheck, idle - quiet, TimeUnit.NANOSECONDS);
            }
        }

        @Override
        public void onComplete() {
            terminal = true;
            cancelTimerWatchingBody();
            endLease();
            if (retryAfterBody != null) {
                retryLater(retryAfterBody);
            } else if (body != null) {
                if (decoder != null) {
                    SluiceHttpException failed = decodeFailure;
                    if (failed == null) {
                        try {
                            decoder.finish(body::onData);
                        } catch (SluiceHttpException e) {
                            failed = e; // truncated: the body ended before the compressed stream's end
                        }
                    }
                    if (failed != null) {
                        // The last event before the caller can see the end: a metric read right after the
                        // caller's future completed already counts this call.
                        if (lastEvent()) {
                            listener.callFailed(CallListener.Phase.BODY, failed);
                        }
                        body.fail(failed); // the frame that failed decoding also ended the stream
                        finish();
                        return;
                    }
                }
                if (lastEvent()) { // before the caller sees the end
                    SluiceHttpException stopped = body.stoppedWith();
                    if (stopped != null) {
                        listener.callFailed(CallListener.Phase.BODY, stopped); // over a limit: the call failed
                    } else if (body.cancelledByCaller()) {
                        listener.callCancelled();
                    } else {
                        listener.callEnd(deliveredStatus, bodyBytes, sinceStart());
                    }
                }
                body.onEnd();
                guard.completed(deliveredStatus, probe);
                finish();
            }
        }

        @Override
        public void onFailure(Throwable cause) {
            terminal = true;
            cancelTimerWatchingBody(); // pending before the head, kept as the body's idle check, or the drain's
            endLease();
            if (retryAfterBody != null) {
                retryLater(retryAfterBody); // the error body broke off; the retry does not depend on it
            } else if (body != null) {
                if (decoder != null) {
                    decoder.release();
                }
                SluiceHttpException stopped = body.stoppedWith();
                SluiceHttpException failure = decodeFailure != null ? decodeFailure
                        : stopped != null ? stopped : Errors.map(route, cause, null);
                if (lastEvent()) { // before the caller sees the failure
                    if (decodeFailure == null && (body.cancelledByCaller() || cause instanceof CancellationException)) {
                        listener.callCancelled(); // the caller closed the response early
                    } else {
                        listener.callFailed(CallListener.Phase.BODY, failure);
                    }
                }
                body.fail(failure);
                finish();
            } else {
                attemptFailed(this, cause);
            }
        }

        /** A finished exchange must not stay reachable from the loop's timer queue for the rest of the bound. */
        private void cancelTimerWatchingBody() {
            if (headersTimer != null) {
                headersTimer.cancel(false); // a no-op when it was cancelled at the head already
            }
            if (drainTimer != null) {
                drainTimer.cancel(false);
            }
        }

        private void endLease() {
            if (!leaseEnded.compareAndSet(false, true)) {
                return;
            }
            HttpConnection c = lease.connection();
            if (c.protocol() == Protocol.HTTP_1_1 && c.isBroken()) {
                lease.invalidate();
            } else {
                lease.close();
            }
        }
    }
}

package io.sluice.http;

import java.time.Duration;

/**
 * What happens to one call, event by event: for metrics, tracing, timing logs. Every method has an
 * empty default; override the events you need. A client gets its listeners from the
 * {@link Factory} given to {@link ConnectionPoolManager.Builder#callListener}: one per call
 * ({@code send()} or {@code stream()}), so a listener may keep per-call state in plain fields.
 *
 * <p><b>Order.</b> {@link #callStart}; then per attempt {@link #acquireStart}, (for the first call on
 * a connection opened while it waited, or opened for it) {@link #connectionSetUp}, {@link #acquireEnd},
 * {@link #requestSending}, {@link #requestSent}, {@link #responseHeaders}; between attempts
 * {@link #replay} or {@link #statusRetry}; after the head that went to the caller
 * {@link #firstBodyByte}; last exactly one of {@link #callEnd}, {@link #callFailed} and
 * {@link #callCancelled}, which comes before the caller can see that end (its future's completion, the
 * body's last chunk or failure), so a metric read right after {@code send()} returned counts the call.
 * A failure may come at any point after {@link #callStart}. Events that
 * did not happen are skipped: a request the server answered before its body was written gets no
 * {@link #requestSent}; an empty body no {@link #firstBodyByte}.
 *
 * <p><b>Connections.</b> The pool opens connections in the background, not on a call's behalf, so DNS,
 * TCP and TLS are not call events as they run. The call that is first to use a newly opened connection
 * gets their measured durations in one {@link #connectionSetUp} event, before its {@link #acquireEnd}
 * says {@code newConnection}. A connect that failed reaches the calls waiting for it as their
 * {@link #callFailed} in {@link Phase#ACQUIRE}, with the connect's typed error.
 *
 * <p><b>Cost.</b> Without a factory the client uses {@link #NONE} and every event is a call to an empty
 * method: nothing is allocated for events, and every argument is a value the call holds anyway.
 *
 * <p><b>Thread-safety:</b> the events of one call come one at a time, in the order above, but
 * from different threads (the caller's, the pool's, the connection's event loop), each happening
 * before the next; plain fields in a per-call listener are safe. A listener shared by many calls
 * must be thread-safe. Events run on an event loop: they must be quick and must not block. An
 * exception a listener throws is logged at WARN once per client and otherwise ignored: it never
 * changes the call.
 */
public interface CallListener {

    /** The listener that ignores every event. */
    CallListener NONE = new CallListener() { };

    /** Where a call was when it failed. */
    enum Phase {
        /** Waiting to be admitted ({@link RequestAdmission}: a rate limit). */
        ADMISSION,
        /** Waiting for a connection: the pool's limit, a connect or TLS failure, the acquire timeout. */
        ACQUIRE,
        /** Sending the request or waiting for the response head. */
        REQUEST,
        /** Reading the body of the response the caller got. */
        BODY
    }

    /** Makes the listener of each call. */
    @FunctionalInterface
    interface Factory {
        /** The listener for the call about to start {@code request} on {@code route}; {@link #NONE} to ignore it. */
        CallListener create(Route route, HttpRequest request);

        /** The same listener for every call (it must be thread-safe). */
        static Factory of(CallListener shared) {
            java.util.Objects.requireNonNull(shared, "listener");
            return (route, request) -> shared;
        }
    }

    /** The call was admitted and starts; {@code request} is the caller's, before any interceptor. */
    default void callStart(HttpRequest request) { }

    /** An attempt asks the pool for a slot. {@code attempt} is 1 for the first attempt, 2 after one replay or retry. */
    default void acquireStart(int attempt) { }

    /**
     * The connection this attempt got was opened while the call waited (or just before), and this call is
     * the first to use it: how long each step took. Comes right before {@link #acquireEnd}.
     */
    default void connectionSetUp(ConnectionSetup setup) { }

    /**
     * A slot was leased after {@code waitNanos}.
     *
     * @param connection    what the connection negotiated
     * @param newConnection true when no call had used the connection before (see {@link #connectionSetUp})
     */
    default void acquireEnd(long waitNanos, ConnectionInfo connection, boolean newConnection) { }

    /**
     * The request this attempt sends, with what this listener carries to the server added: a trace
     * context ({@code traceparent}, {@code tracestate}), baggage. Called once per attempt, after
     * {@link #acquireEnd} and the per-attempt interceptors, before {@link #requestSending}, on the thread
     * that hands the attempt its connection (quick, never blocking). Return {@code attempt} (the default)
     * or a copy with headers set ({@code attempt.toBuilder().setHeader(..).build()}); a result that is
     * null, throws, or changes the route is ignored (and logged), and the attempt goes out as it was.
     */
    default HttpRequest propagate(HttpRequest attempt) {
        return attempt;
    }

    /**
     * The request, after the per-attempt interceptors, is being written: its head first, then its body.
     * Runs on the connection's event loop.
     */
    default void requestSending(HttpRequest sent) { }

    /** The whole request (head and body, its last frame) reached the socket. */
    default void requestSent() { }

    /**
     * A final response head arrived, {@code nanosSinceStart} after {@link #callStart}. It may be one a status
     * retry drops (see {@link #statusRetry}); the one handed to the caller is the last.
     */
    default void responseHeaders(int status, Headers headers, long nanosSinceStart) { }

    /** The first bytes of the caller's response body arrived, {@code nanosSinceStart} after {@link #callStart}. */
    default void firstBodyByte(long nanosSinceStart) { }

    /**
     * An attempt that failed before its response is replayed on another connection.
     *
     * @param reason  {@code not_sent}, {@code stale_connection}, {@code not_fully_written},
     *                {@code goaway_unprocessed} or {@code refused_stream}
     * @param failure what ended the attempt
     */
    default void replay(String reason, Throwable failure) { }

    /** A response with {@code status} is dropped and the request sent again after {@code delay}. */
    default void statusRetry(int status, Duration delay) { }

    /**
     * The call ended well: the caller's response (any status) was received to its end.
     *
     * @param bodyBytes       the response body's bytes as they came over the wire (compressed, when it was)
     * @param nanosSinceStart from {@link #callStart} to the body's end
     */
    default void callEnd(int status, long bodyBytes, long nanosSinceStart) { }

    /** The call failed in {@code phase}; {@code failure} is what the caller gets. */
    default void callFailed(Phase phase, SluiceHttpException failure) { }

    /** The caller cancelled the call or closed its response before the end. */
    default void callCancelled() { }
}

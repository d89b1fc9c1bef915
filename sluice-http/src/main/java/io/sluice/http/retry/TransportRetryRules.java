package io.sluice.http.retry;

import java.util.Objects;

/**
 * The transport's own replays: always on, invisible to the caller, and never able to double a request's effect.
 * The transport classifies a failed attempt, describes it in a {@link FailedAttempt} and asks {@link #decide}.
 *
 * <p>The rule: a request is replayed only when the server provably did not process it, because an AI provider bills
 * what it processed and a duplicated completion is paid twice. The cases, and why each is safe:
 * <ul>
 *   <li><b>Connect failures</b> are retried by the pool ({@code PoolConfig.maxRetries}, exponential backoff with
 *   jitter) before the transport ever sees them; the transport adds nothing, so the two layers do not multiply.</li>
 *   <li><b>Unprocessed HTTP/2 streams</b>: {@code RST_STREAM(REFUSED_STREAM)} and a stream above a {@code GOAWAY}'s
 *   last-stream-id are the peer's promise that it did no work (RFC 9113 §8.7), so they are replayed on another
 *   connection at once, for any method including POST, up to {@link #MAX_UNPROCESSED_REPLAYS} times (a peer that
 *   keeps refusing is overloaded, and {@code TooManyStreamsException} tells the caller).</li>
 *   <li><b>Not fully written</b>: the connection failed before the request's last byte was written to the socket.
 *   A server cannot act on a request it has not received in full, so it is replayed once, for any method.</li>
 *   <li><b>Written, then lost before any response byte</b> (the stale keep-alive race, or a connection lost while
 *   the provider was generating): the server may have processed it. Only an idempotent request (by method, marked
 *   by the caller, or carrying an {@code Idempotency-Key}) is replayed, once (RFC 9110 §9.2.2: repeating it has the
 *   effect of sending it once; a second loss in a row is no race, and the caller hears of it). Any other request
 *   fails with
 *   {@code ConnectionLostException.possiblyProcessed()} true, so the caller, who knows whether a duplicate matters,
 *   decides. The stale case is made rare instead: an idle HTTP/1.1 connection that saw the peer's FIN leaves the
 *   pool at once, and an idle timeout below the server's {@code Keep-Alive: timeout=} retires it first.</li>
 *   <li><b>Never</b> once a response byte arrived, nor when the request body cannot be produced again (a one-shot
 *   stream already read).</li>
 * </ul>
 *
 * <p><b>Thread-safety:</b> stateless.
 */
public final class TransportRetryRules {

    /** Replays of refused or never-processed HTTP/2 streams per request. */
    public static final int MAX_UNPROCESSED_REPLAYS = 3;
    /**
     * Replays per request after a lost connection (not fully written, or written and idempotent): one, since a second
     * lost connection in a row is no longer a race.
     */
    public static final int MAX_STALE_REPLAYS = 1;

    private TransportRetryRules() {
    }

    /** How an attempt failed, as the transport classifies it. */
    public enum Failure {
        /** The connection could not be opened; the pool already retried it. */
        CONNECT_FAILED,
        /** HTTP/2 {@code RST_STREAM} with {@code REFUSED_STREAM}: the peer did not process the stream. */
        REFUSED_STREAM,
        /** HTTP/2 {@code GOAWAY} whose last-stream-id is below this stream's id: the peer did not process it. */
        GOAWAY_UNPROCESSED,
        /** The connection closed or reset, or an I/O error hit it, during the exchange. */
        CONNECTION_LOST
    }

    /**
     * Decides whether the transport sends the request again on another connection ({@link RetryDecision#delay()}
     * is zero: the rules say whether, not when). The client starts a replay once its event loops have handled the
     * I/O they have ready, and a replay after a lost connection after a jittered 25 ms back-off as well, so that
     * the rest of a server's sweep of resets or GOAWAYs arrives first.
     */
    public static RetryDecision decide(Failure failure, FailedAttempt attempt) {
        Objects.requireNonNull(failure, "failure");
        Objects.requireNonNull(attempt, "attempt");
        if (attempt.bodyBytesDelivered()) {
            return RetryDecision.giveUp("response body bytes already reached the caller");
        }
        switch (failure) {
            case CONNECT_FAILED:
                return RetryDecision.giveUp("connect failures are retried by the pool, not again by the transport");
            case REFUSED_STREAM:
            case GOAWAY_UNPROCESSED:
                return unprocessed(failure, attempt);
            case CONNECTION_LOST:
                return stale(attempt);
            default:
                throw new AssertionError(failure);
        }
    }

    private static RetryDecision unprocessed(Failure failure, FailedAttempt attempt) {
        String what = failure == Failure.REFUSED_STREAM ? "stream refused" : "stream above GOAWAY's last-stream-id";
        if (!attempt.requestBodyReplayable()) {
            return RetryDecision.giveUp(what + ", but the request body cannot be sent again");
        }
        if (attempt.replaysSoFar() >= MAX_UNPROCESSED_REPLAYS) {
            return RetryDecision.giveUp(what + " after " + attempt.replaysSoFar() + " replays: giving up");
        }
        return RetryDecision.retryNow(what + ": the peer did not process it, replaying on another connection");
    }

    private static RetryDecision stale(FailedAttempt attempt) {
        if (attempt.responseBytesReceived()) {
            return RetryDecision.giveUp("connection lost after the response began: the server processed the request");
        }
        if (!attempt.requestBodyReplayable()) {
            return RetryDecision.giveUp("connection lost, but the request body cannot be sent again");
        }
        if (attempt.replaysSoFar() >= MAX_STALE_REPLAYS) {
            return RetryDecision.giveUp("connection lost again after a replay: giving up");
        }
        if (!attempt.requestFullyWritten()) {
            return RetryDecision.retryNow("connection lost before the request was fully written: the server cannot "
                    + "have processed it, replaying " + attempt.method() + " once on another connection");
        }
        if (!attempt.idempotent() && !Methods.isIdempotent(attempt.method())) {
            return RetryDecision.giveUp("connection lost after " + attempt.method() + " was fully written: the server "
                    + "may have processed it, not replayed");
        }
        return RetryDecision.retryNow("connection lost before any response byte: replaying idempotent "
                + attempt.method() + " once on another connection");
    }

    /**
     * Whether a request that failed this way may have been processed by the server: false only when the failure
     * proves it was not (never fully written, refused, or above a GOAWAY's last-stream-id).
     */
    public static boolean possiblyProcessed(Failure failure, FailedAttempt attempt) {
        switch (failure) {
            case CONNECT_FAILED:
            case REFUSED_STREAM:
            case GOAWAY_UNPROCESSED:
                return false;
            default:
                return attempt.requestFullyWritten() || attempt.responseBytesReceived();
        }
    }

    /**
     * What the transport knows about a failed attempt. Build with {@link #builder(String)}; every flag defaults to
     * false (the conservative value for all but {@code requestBodyReplayable}, which must be stated).
     *
     * <p><b>Thread-safety:</b> immutable.
     *
     * @param method                the request method, upper case
     * @param connectionReused      the attempt ran on a pooled connection that had served an earlier exchange
     * @param requestFullyWritten   every byte of the request (headers and body) was written to the socket
     * @param responseBytesReceived any byte of the response (status line or HEADERS) arrived
     * @param bodyBytesDelivered    any response body byte reached the caller
     * @param requestBodyReplayable the request body can be produced again (none, a byte array, a repeatable supplier)
     * @param idempotent            sending the request twice is harmless: an idempotent method, marked by the caller,
     *                              or an {@code Idempotency-Key} header
     * @param replaysSoFar          transport replays this request already had for the same kind of failure
     */
    public record FailedAttempt(String method, boolean connectionReused, boolean requestFullyWritten,
            boolean responseBytesReceived, boolean bodyBytesDelivered, boolean requestBodyReplayable,
            boolean idempotent, int replaysSoFar) {

        public FailedAttempt {
            Objects.requireNonNull(method, "method");
            if (replaysSoFar < 0) {
                throw new IllegalArgumentException("replaysSoFar must be >= 0, was " + replaysSoFar);
            }
        }

        public static Builder builder(String method) {
            return new Builder(method);
        }

        /** Builds a {@link FailedAttempt}; named setters keep the many flags readable at the call site. */
        public static final class Builder {
            private final String method;
            private boolean connectionReused;
            private boolean requestFullyWritten;
            private boolean responseBytesReceived;
            private boolean bodyBytesDelivered;
            private boolean requestBodyReplayable;
            private boolean idempotent;
            private int replaysSoFar;

            private Builder(String method) {
                this.method = method;
            }

            public Builder connectionReused(boolean v) {
                connectionReused = v;
                return this;
            }

            public Builder requestFullyWritten(boolean v) {
                requestFullyWritten = v;
                return this;
            }

            public Builder responseBytesReceived(boolean v) {
                responseBytesReceived = v;
                return this;
            }

            public Builder bodyBytesDelivered(boolean v) {
                bodyBytesDelivered = v;
                return this;
            }

            public Builder requestBodyReplayable(boolean v) {
                requestBodyReplayable = v;
                return this;
            }

            public Builder idempotent(boolean v) {
                idempotent = v;
                return this;
            }

            public Builder replaysSoFar(int v) {
                replaysSoFar = v;
                return this;
            }

            public FailedAttempt build() {
                return new FailedAttempt(method, connectionReused, requestFullyWritten, responseBytesReceived,
                        bodyBytesDelivered, requestBodyReplayable, idempotent, replaysSoFar);
            }
        }
    }
}

package io.sluice.http;

import java.util.concurrent.CompletableFuture;

/**
 * Decides when each attempt of a request may go out: a rate limiter that holds requests until the
 * provider's budget has room, a concurrency cap per tenant. Set with
 * {@link ConnectionPoolManager.Builder#admission}; the client asks before every attempt (the first,
 * replays, status retries), before it asks the pool for a connection.
 *
 * <p>The future completes when the attempt may be sent, or fails with the
 * {@link SluiceHttpException} the caller should get (typically {@link RateLimitedException}). When the
 * call ends before admission (its deadline, the caller's cancel, the client's close) the client
 * cancels the future: an implementation releases what it reserved for it. An attempt admitted but
 * then not sent (the call ended in between) is reported through {@link #abandoned}.
 *
 * <p><b>Thread-safety:</b> implementations must be thread-safe. {@link #admit} is called on the
 * caller's thread or an event loop: it must not block. The future may complete on any thread; the
 * client continues the call from there without running user code.
 */
public interface RequestAdmission {

    /**
     * Admits {@code request}'s attempt number {@code attempt} (1 for the first).
     *
     * @return a future that completes when the attempt may be sent, or fails with the caller's error
     */
    CompletableFuture<Void> admit(HttpRequest request, int attempt);

    /** An admitted attempt was not sent after all (the call ended first): give back what it took. */
    default void abandoned(HttpRequest request, int attempt) {
    }

    /**
     * The admission of one call, asked when the call starts: the client admits each of its attempts through it
     * and, when it has a {@link CallAdmission#listener() listener}, delivers the call's events to it first. The
     * default delegates to {@link #admit} and {@link #abandoned} with the call's request. Override it to keep
     * state per call rather than per request object: one {@link HttpRequest} (immutable) may be sent by several
     * calls at once.
     */
    default CallAdmission forCall(HttpRequest request) {
        return new CallAdmission() {
            @Override
            public CompletableFuture<Void> admit(int attempt) {
                return RequestAdmission.this.admit(request, attempt);
            }

            @Override
            public void abandoned(int attempt) {
                RequestAdmission.this.abandoned(request, attempt);
            }
        };
    }

    /**
     * One call's admission. <b>Thread-safety:</b> the client calls it for one call's attempts one after another
     * (from the caller's thread, an event loop or the pool's), each call happening-before the next.
     */
    interface CallAdmission {

        /** Admits attempt number {@code attempt} (1 for the first); as {@link RequestAdmission#admit}. */
        CompletableFuture<Void> admit(int attempt);

        /**
         * Attempt {@code attempt} was admitted but did not count at the server: it was never sent (no connection,
         * the call ended first), or the server provably never processed it (a refused stream, a GOAWAY below its
         * stream, a connection found closed before any byte): give back what it took.
         */
        void abandoned(int attempt);

        /** Hears the call's events, before any other listener (the responses' rate-limit headers); none by default. */
        default CallListener listener() {
            return CallListener.NONE;
        }
    }
}

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
}

package io.sluice.http;

import java.time.Duration;

/**
 * The request was not sent because a rate-limit budget (the provider's limit on requests or tokens
 * per window, as the client tracks it) has nothing left, and the caller asked to fail at once rather
 * than wait, or the wait would outlast the request's deadline. Nothing reached the server.
 *
 * <p><b>Thread-safety:</b> immutable.
 */
public final class RateLimitedException extends SluiceHttpException {

    private final String budget;
    private final Duration retryAfter;

    /**
     * @param budget     which budget ran out: {@code requests} or {@code tokens}
     * @param retryAfter how long until the budget has room for this request again, as far as the client knows
     */
    public RateLimitedException(String route, String budget, Duration retryAfter) {
        super(route, "the " + budget + " rate limit is spent; room again in about " + retryAfter.toMillis()
                + " ms (request not sent)", null);
        this.budget = budget;
        this.retryAfter = retryAfter;
    }

    /** {@code requests} or {@code tokens}. */
    public String budget() {
        return budget;
    }

    /** How long until the budget has room for this request again, as far as the client knows. */
    public Duration retryAfter() {
        return retryAfter;
    }

    /** Nothing was sent: sending again after {@link #retryAfter()} is safe. */
    @Override
    public boolean retryable() {
        return true;
    }
}

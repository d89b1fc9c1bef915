package io.sluice.http.retry;

import java.time.Duration;
import java.util.Objects;

/**
 * The outcome of a retry rule: retry after {@link #delay()}, or give up; {@link #reason()} says why in words fit for
 * a debug log (it never contains header values other than retry hints).
 *
 * <p><b>Thread-safety:</b> immutable.
 *
 * @param retry  whether to send the request again
 * @param delay  how long to wait first; {@link Duration#ZERO} when not retrying or when the replay is immediate
 * @param reason a short explanation, e.g. {@code "429 with retry-after 2000 ms"} or {@code "retries exhausted"}
 */
public record RetryDecision(boolean retry, Duration delay, String reason) {

    public RetryDecision {
        Objects.requireNonNull(delay, "delay");
        Objects.requireNonNull(reason, "reason");
        if (delay.isNegative()) {
            throw new IllegalArgumentException("delay must not be negative, was " + delay);
        }
        if (!retry && !delay.isZero()) {
            throw new IllegalArgumentException("a decision not to retry has no delay, was " + delay);
        }
    }

    /** Retry after {@code delay}. */
    public static RetryDecision retryAfter(Duration delay, String reason) {
        return new RetryDecision(true, delay, reason);
    }

    /** Retry at once (on another connection, for transport replays). */
    public static RetryDecision retryNow(String reason) {
        return new RetryDecision(true, Duration.ZERO, reason);
    }

    /** Do not retry. */
    public static RetryDecision giveUp(String reason) {
        return new RetryDecision(false, Duration.ZERO, reason);
    }
}

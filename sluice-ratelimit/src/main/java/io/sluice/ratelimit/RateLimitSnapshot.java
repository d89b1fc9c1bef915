package io.sluice.ratelimit;

import java.time.Duration;
import java.time.Instant;

/**
 * What one response said about the limits it counts against: for requests and for tokens, the limit per
 * window, what is left, and when the budget is full again; and, on a 429, how long to wait. A value the
 * response did not carry is -1 (counts) or null (instants, durations).
 *
 * <p><b>Thread-safety:</b> immutable.
 *
 * @param requestLimit     requests per window
 * @param requestRemaining requests left now
 * @param requestReset     when the request budget is full again
 * @param tokenLimit       tokens per window
 * @param tokenRemaining   tokens left now
 * @param tokenReset       when the token budget is full again
 * @param retryAfter       {@code retry-after} / {@code retry-after-ms}: wait this long before the next request
 * @param requestWindowed  the request figures are a quota that comes back whole at {@code requestReset} (the IETF
 *                         draft's fields, which promise nothing between resets), rather than a budget replenished
 *                         continuously up to it (OpenAI's and Anthropic's)
 */
public record RateLimitSnapshot(long requestLimit, long requestRemaining, Instant requestReset,
                                long tokenLimit, long tokenRemaining, Instant tokenReset, Duration retryAfter,
                                boolean requestWindowed) {

    /** Figures of a continuously replenished budget. */
    public RateLimitSnapshot(long requestLimit, long requestRemaining, Instant requestReset,
                             long tokenLimit, long tokenRemaining, Instant tokenReset, Duration retryAfter) {
        this(requestLimit, requestRemaining, requestReset, tokenLimit, tokenRemaining, tokenReset, retryAfter, false);
    }

    /** Whether the response carried anything about limits. */
    public boolean isEmpty() {
        return requestLimit < 0 && requestRemaining < 0 && requestReset == null && tokenLimit < 0
                && tokenRemaining < 0 && tokenReset == null && retryAfter == null;
    }
}

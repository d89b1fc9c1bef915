package io.sluice.testkit;

import io.netty.handler.codec.http.HttpHeaders;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Adds the providers' per-response headers: a request id and rate-limit headers. Without an
 * enforced limit ({@link #apply}) the values come from a count over a fixed window
 * ({@link MockOptions#rateLimitWindow()}, one minute by default) of all requests of the server;
 * with one ({@link #applyLimited}) they are the {@link RateLimiter}'s state for this request.
 * Thread-safe: the fixed window is a pair of atomics; a request racing a window roll may be
 * counted in either window, which is as precise as an unenforced count needs to be.
 */
final class ProviderHeaders {
    private final long windowMs;
    private final long requestLimit;
    private final long tokenLimit;
    private final String idPrefix;
    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong windowStart = new AtomicLong(System.currentTimeMillis());
    private final AtomicLong requestsInWindow = new AtomicLong();
    private final AtomicLong tokensInWindow = new AtomicLong();

    ProviderHeaders(MockOptions options) {
        this.windowMs = options.rateLimitWindow().toMillis();
        this.requestLimit = options.rateLimitRequests();
        this.tokenLimit = options.rateLimitTokens();
        this.idPrefix = "req_" + String.format("%016x", new SecureRandom().nextLong());
    }

    /** A fresh request id, unique within this server. */
    String nextRequestId() {
        return idPrefix + Long.toHexString(ids.incrementAndGet());
    }

    /**
     * Counts one request using {@code tokens} and writes the id and rate-limit headers.
     *
     * @param exhausted write remaining=0, as a provider does when it answers 429
     */
    void apply(HttpHeaders h, boolean anthropic, long tokens, boolean exhausted) {
        long now = System.currentTimeMillis();
        long start = windowStart.get();
        if (now - start >= windowMs && windowStart.compareAndSet(start, now)) {
            requestsInWindow.set(0);
            tokensInWindow.set(0);
            start = now;
        }
        long reqRemaining = exhausted ? 0 : Math.max(0, requestLimit - requestsInWindow.incrementAndGet());
        long tokRemaining = exhausted ? 0 : Math.max(0, tokenLimit - tokensInWindow.addAndGet(tokens));
        long resetInMs = Math.max(0, start + windowMs - now);
        String id = nextRequestId();
        if (anthropic) {
            String reset = Instant.ofEpochMilli(start + windowMs).truncatedTo(ChronoUnit.SECONDS).toString();
            h.set("request-id", id);
            h.set("anthropic-ratelimit-requests-limit", requestLimit);
            h.set("anthropic-ratelimit-requests-remaining", reqRemaining);
            h.set("anthropic-ratelimit-requests-reset", reset);
            h.set("anthropic-ratelimit-tokens-limit", tokenLimit);
            h.set("anthropic-ratelimit-tokens-remaining", tokRemaining);
            h.set("anthropic-ratelimit-tokens-reset", reset);
            h.set("anthropic-ratelimit-input-tokens-limit", tokenLimit);
            h.set("anthropic-ratelimit-input-tokens-remaining", tokRemaining);
            h.set("anthropic-ratelimit-input-tokens-reset", reset);
            h.set("anthropic-ratelimit-output-tokens-limit", tokenLimit);
            h.set("anthropic-ratelimit-output-tokens-remaining", tokRemaining);
            h.set("anthropic-ratelimit-output-tokens-reset", reset);
        } else {
            String reset = formatDuration(resetInMs);
            h.set("x-request-id", id);
            h.set("x-ratelimit-limit-requests", requestLimit);
            h.set("x-ratelimit-remaining-requests", reqRemaining);
            h.set("x-ratelimit-reset-requests", reset);
            h.set("x-ratelimit-limit-tokens", tokenLimit);
            h.set("x-ratelimit-remaining-tokens", tokRemaining);
            h.set("x-ratelimit-reset-tokens", reset);
        }
    }

    /**
     * Writes the id and the enforced limit's state {@code s} as the provider does, and with
     * {@code draft} the IETF draft's fields too. OpenAI's reset values are durations until the
     * bucket is full again; Anthropic's are that instant (RFC 3339, rounded up to the second so it
     * is never earlier than the real refill).
     */
    void applyLimited(HttpHeaders h, boolean anthropic, RateLimiter.State s, boolean draft) {
        String id = nextRequestId();
        if (anthropic) {
            String reqReset = instant(s.nowMs() + s.requestsResetMs());
            String tokReset = instant(s.nowMs() + s.tokensResetMs());
            h.set("request-id", id);
            h.set("anthropic-ratelimit-requests-limit", s.requestLimit());
            h.set("anthropic-ratelimit-requests-remaining", s.requestsRemaining());
            h.set("anthropic-ratelimit-requests-reset", reqReset);
            // One token budget: Anthropic's combined, input and output families all report it.
            for (String kind : new String[] {"tokens", "input-tokens", "output-tokens"}) {
                h.set("anthropic-ratelimit-" + kind + "-limit", s.tokenLimit());
                h.set("anthropic-ratelimit-" + kind + "-remaining", s.tokensRemaining());
                h.set("anthropic-ratelimit-" + kind + "-reset", tokReset);
            }
        } else {
            h.set("x-request-id", id);
            h.set("x-ratelimit-limit-requests", s.requestLimit());
            h.set("x-ratelimit-remaining-requests", s.requestsRemaining());
            h.set("x-ratelimit-reset-requests", formatDuration(s.requestsResetMs()));
            h.set("x-ratelimit-limit-tokens", s.tokenLimit());
            h.set("x-ratelimit-remaining-tokens", s.tokensRemaining());
            h.set("x-ratelimit-reset-tokens", formatDuration(s.tokensResetMs()));
        }
        if (draft) {
            // draft-ietf-httpapi-ratelimit-headers-09: w and t are whole seconds (t rounded up so a
            // client never retries early). "tokens" is not a registered quota unit; clients that
            // do not know it can still read the "requests" policy.
            long w = Math.max(1, (s.windowMs() + 999) / 1000);
            h.set("ratelimit-policy", "\"requests\";q=" + s.requestLimit() + ";w=" + w
                    + ", \"tokens\";q=" + s.tokenLimit() + ";qu=\"tokens\";w=" + w);
            h.set("ratelimit", "\"requests\";r=" + s.requestsRemaining() + ";t=" + ceilSeconds(s.requestsResetMs())
                    + ", \"tokens\";r=" + s.tokensRemaining() + ";t=" + ceilSeconds(s.tokensResetMs()));
        }
    }

    private static long ceilSeconds(long ms) {
        return (ms + 999) / 1000;
    }

    /** RFC 3339 in UTC, whole seconds, rounded up: "2025-01-01T00:01:00Z". */
    static String instant(long epochMs) {
        return Instant.ofEpochSecond(Math.floorDiv(epochMs + 999, 1000)).toString();
    }

    /**
     * OpenAI's duration style, which is Go's {@code time.Duration} string at millisecond precision:
     * "0s", "20ms", "1s", "1.5s", "6m0s", "1m26.4s", "1h0m0s".
     */
    static String formatDuration(long ms) {
        if (ms <= 0) {
            return "0s";
        }
        if (ms < 1000) {
            return ms + "ms";
        }
        StringBuilder sb = new StringBuilder(16);
        long h = ms / 3_600_000;
        long m = ms / 60_000 % 60;
        long sec = ms / 1000 % 60;
        long frac = ms % 1000;
        if (h > 0) {
            sb.append(h).append('h');
        }
        if (h > 0 || m > 0) {
            sb.append(m).append('m');
        }
        sb.append(sec);
        if (frac > 0) {
            String f = String.format("%03d", frac);
            sb.append('.').append(f.replaceFirst("0+$", ""));
        }
        return sb.append('s').toString();
    }
}

package io.sluice.testkit;

import io.netty.handler.codec.http.HttpHeaders;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Adds the providers' per-response headers: a request id and rate-limit headers computed from a
 * one-minute window over all requests of the server. Thread-safe: the window is a pair of atomics;
 * a request racing a window roll may be counted in either window, which is as precise as a mock
 * needs to be.
 */
final class ProviderHeaders {
    private static final long WINDOW_MS = 60_000;

    private final long requestLimit;
    private final long tokenLimit;
    private final String idPrefix;
    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong windowStart = new AtomicLong(System.currentTimeMillis());
    private final AtomicLong requestsInWindow = new AtomicLong();
    private final AtomicLong tokensInWindow = new AtomicLong();

    ProviderHeaders(MockOptions options) {
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
        if (now - start >= WINDOW_MS && windowStart.compareAndSet(start, now)) {
            requestsInWindow.set(0);
            tokensInWindow.set(0);
            start = now;
        }
        long reqRemaining = exhausted ? 0 : Math.max(0, requestLimit - requestsInWindow.incrementAndGet());
        long tokRemaining = exhausted ? 0 : Math.max(0, tokenLimit - tokensInWindow.addAndGet(tokens));
        long resetInMs = Math.max(0, start + WINDOW_MS - now);
        String id = nextRequestId();
        if (anthropic) {
            String reset = Instant.ofEpochMilli(start + WINDOW_MS).truncatedTo(ChronoUnit.SECONDS).toString();
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

    /** OpenAI's duration style: "17ms", "1s", "6m0s". */
    static String formatDuration(long ms) {
        if (ms < 1000) {
            return ms + "ms";
        }
        long s = (ms + 999) / 1000;
        return s < 60 ? s + "s" : (s / 60) + "m" + (s % 60) + "s";
    }
}

package io.sluice.testkit;

import java.time.Clock;

/**
 * The enforced rate limit of one {@link MockProvider} ({@link MockOptions#enforceRateLimits()}):
 * two token buckets, one of requests and one of tokens, each holding at most its limit and
 * refilled continuously at {@code limit / window}. This is the model OpenAI and Anthropic
 * document ("capacity is continuously replenished up to your maximum limit, rather than being
 * reset at fixed intervals"); a fixed window would instead let a client send twice the limit
 * across a window boundary, which no provider allows. A request is admitted only when both
 * buckets hold its cost (1 request, its token estimate); a refused request takes nothing.
 *
 * <p>Arithmetic is exact integer arithmetic in milliseconds of the limiter's clock: a bucket's
 * level is kept in units of {@code 1/windowMs} token, so refilling {@code limit} units per
 * millisecond needs no division and remaining counts come out exact (N admissions at one instant
 * leave exactly {@code limit - N}). {@link MockOptions} checks that {@code (limit + 1) × windowMs
 * × 2} fits in a long, which bounds every intermediate value here.
 *
 * <p>Thread-safe: one short lock guards both buckets, because an admission must check and take
 * from both atomically (a lock-free pair could take from one bucket and then find the other
 * empty). The critical section is a few additions; the lock is never held across I/O. Shared by
 * every connection and protocol of its server; owned by its {@link MockServerContext}.
 */
final class RateLimiter {
    private final Clock clock;
    private final long windowMs;
    private final Bucket requests;
    private final Bucket tokens;

    RateLimiter(MockOptions options) {
        this.clock = options.rateLimitClock();
        this.windowMs = options.rateLimitWindow().toMillis();
        long now = clock.millis();
        this.requests = new Bucket(options.rateLimitRequests(), windowMs, now);
        this.tokens = new Bucket(options.rateLimitTokens(), windowMs, now);
    }

    /**
     * Admits one request costing {@code tokenCost} tokens if both buckets hold it, taking from
     * both; otherwise takes nothing. The returned state is after the admission (or of the refusal).
     */
    State tryAcquire(long tokenCost) {
        long cost = Math.max(0, tokenCost);
        synchronized (this) {
            long now = clock.millis();
            requests.refill(now);
            tokens.refill(now);
            long reqWait = requests.waitMs(1);
            long tokWait = tokens.waitMs(cost);
            boolean admitted = reqWait == 0 && tokWait == 0;
            if (admitted) {
                requests.take(1);
                tokens.take(cost);
            }
            return snapshot(now, admitted, Math.max(reqWait, tokWait), tokWait > reqWait, cost);
        }
    }

    /** The current state without taking anything (responses outside the limited endpoints). */
    State peek() {
        synchronized (this) {
            long now = clock.millis();
            requests.refill(now);
            tokens.refill(now);
            return snapshot(now, true, 0, false, 0);
        }
    }

    /** Refills both buckets completely. */
    void reset() {
        synchronized (this) {
            long now = clock.millis();
            requests.fill(now);
            tokens.fill(now);
        }
    }

    private State snapshot(long now, boolean admitted, long waitMs, boolean byTokens, long cost) {
        return new State(now, windowMs, requests.limit, requests.remaining(), requests.msUntilFull(),
                tokens.limit, tokens.remaining(), tokens.msUntilFull(), admitted, waitMs, byTokens, cost);
    }

    /**
     * One bucket. Not thread-safe on its own; guarded by the enclosing limiter's lock.
     * {@code used} is how far below full the bucket is, in units of {@code 1/windowMs} token.
     */
    private static final class Bucket {
        final long limit;
        final long windowMs;
        final long capacity;
        long used;
        long lastMs;

        Bucket(long limit, long windowMs, long now) {
            this.limit = limit;
            this.windowMs = windowMs;
            this.capacity = limit * windowMs;
            this.lastMs = now;
        }

        void refill(long now) {
            // A wall clock can step backwards; treating that as "no time passed" keeps the bucket
            // from draining, and the next forward tick refills from the new reading.
            long elapsed = Math.max(0, now - lastMs);
            lastMs = Math.max(lastMs, now);
            // After a whole window the bucket is full whatever it held; clamping also keeps
            // elapsed × limit from overflowing after a long idle spell.
            used = elapsed >= windowMs ? 0 : Math.max(0, used - elapsed * limit);
        }

        /** Milliseconds until {@code cost} fits, 0 when it fits now; a cost above the limit never fits. */
        long waitMs(long cost) {
            // Clamped to limit + 1: "never fits" stays never-fits, and cost × windowMs cannot overflow.
            long need = used + Math.min(cost, limit + 1) * windowMs - capacity;
            if (need <= 0) {
                return 0;
            }
            if (cost > limit) {
                // It will never fit; the most honest wait is "until the bucket is full again".
                return Math.max(1, msUntilFull());
            }
            return ceilDiv(need, limit);
        }

        void take(long cost) {
            used += cost * windowMs;
        }

        void fill(long now) {
            used = 0;
            lastMs = now;
        }

        long remaining() {
            return (capacity - used) / windowMs;
        }

        long msUntilFull() {
            return ceilDiv(used, limit);
        }

        private static long ceilDiv(long a, long b) {
            return -Math.floorDiv(-a, b);
        }
    }

    /**
     * The limiter's state as one response reports it. Immutable.
     *
     * @param nowMs           the limiter clock's reading, epoch milliseconds
     * @param admitted        false: refused, answer 429
     * @param retryAfterMs    refused: milliseconds until the request would fit; 0 when admitted
     * @param byTokens        refused: the token bucket (not the request bucket) was the one short
     * @param tokenCost       the token estimate this request was charged (or refused for)
     */
    record State(long nowMs, long windowMs, long requestLimit, long requestsRemaining, long requestsResetMs,
            long tokenLimit, long tokensRemaining, long tokensResetMs, boolean admitted, long retryAfterMs,
            boolean byTokens, long tokenCost) {

        /** {@code retry-after}: whole seconds, rounded up, at least 1 (a 0 would invite an immediate retry). */
        long retryAfterSeconds() {
            return Math.max(1, (retryAfterMs + 999) / 1000);
        }
    }
}

package io.sluice.http.retry;

import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * Decides whether an HTTP error response is sent again: the "status retry" layer of DESIGN.md, which the direct
 * client enables and the SDK transports turn off (the SDKs retry on their own).
 *
 * <p>What is retried by default, and why:
 * <ul>
 *   <li>429 and 503, for any method: both say "not now", and servers send them before doing the work (rate limit,
 *   overload shedding), so even a POST is safe to repeat.</li>
 *   <li>500, 502, 504 and 529 (Anthropic's "overloaded"), for idempotent methods only (RFC 9110 §9.2.2: GET, HEAD,
 *   OPTIONS, TRACE, PUT, DELETE). These may come after the work was done (a gateway timing out a completion that
 *   finished), so repeating a POST could double it. The official SDKs retry every 5xx plus 408 and 409 for any
 *   method; we are stricter because Sluice's transport retries promise never to double anything, and a caller who
 *   wants the SDK's behaviour can list more statuses in the builder.</li>
 *   <li>{@code x-should-retry: true} makes any error status retryable and {@code x-should-retry: false} forbids a
 *   retry, as in the OpenAI and Anthropic SDKs: the server knows better than a status table.</li>
 * </ul>
 *
 * <p>The delay: the server's hint ({@link RetryAfter}: {@code retry-after-ms}, then {@code Retry-After}) when it is
 * positive and at most {@code maxHintedDelay} (60 s by default); a longer hint means "give up", because a client
 * that waits minutes inside one call hurts more than it helps and the region router uses that hint for cooldown
 * instead. (The SDKs fall back to their backoff for such hints; we stop.) A zero hint, or none, uses exponential
 * backoff with the OpenAI SDK's numbers: 0.5 s × 2^retries, capped at 8 s, times a jitter factor in (0.75, 1].
 *
 * <p>Never retried: after {@code maxRetries} retries (3 by default, so 4 attempts in all), once a body byte reached
 * the caller, or when the delay would reach the request's remaining deadline. Statuses below 400 are never retried.
 *
 * <p><b>Thread-safety:</b> immutable; one instance may serve every request concurrently. The jitter source must be
 * thread-safe too (the default, {@link ThreadLocalRandom}, is).
 */
public final class StatusRetryPolicy {

    /** The OpenAI SDK's initial retry delay. */
    public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofMillis(500);
    /** The OpenAI SDK's longest retry delay. */
    public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(8);
    /** The longest server hint that is honoured (the SDKs' 60 s); longer hints end the retries. */
    public static final Duration DEFAULT_MAX_HINTED_DELAY = Duration.ofSeconds(60);
    public static final int DEFAULT_MAX_RETRIES = 3;
    /** Retryable for any method by default: 429, 503. (Private: a public array could be changed by anyone.) */
    private static final int[] DEFAULT_ANY_METHOD_STATUSES = {429, 503};
    /** Retryable for idempotent methods by default: 500, 502, 504, 529. */
    private static final int[] DEFAULT_IDEMPOTENT_STATUSES = {500, 502, 504, 529};
    /** The SDKs' server override header. */
    public static final String SHOULD_RETRY_HEADER = "x-should-retry";

    private static final StatusRetryPolicy DEFAULTS = builder().build();
    private static final StatusRetryPolicy DISABLED = builder().enabled(false).build();

    private final boolean enabled;
    private final int maxRetries;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final Duration maxHintedDelay;
    private final int[] anyMethodStatuses; // sorted, for binarySearch
    private final int[] idempotentStatuses;
    private final Clock clock;
    private final DoubleSupplier random;

    private StatusRetryPolicy(Builder b) {
        this.enabled = b.enabled;
        this.maxRetries = b.maxRetries;
        this.initialBackoff = b.initialBackoff;
        this.maxBackoff = b.maxBackoff;
        this.maxHintedDelay = b.maxHintedDelay;
        this.anyMethodStatuses = b.anyMethodStatuses.clone();
        this.idempotentStatuses = b.idempotentStatuses.clone();
        this.clock = b.clock;
        this.random = b.random;
    }

    /** The default policy: enabled, 3 retries, the statuses and delays described above. */
    public static StatusRetryPolicy defaults() {
        return DEFAULTS;
    }

    /** A policy that never retries, for the SDK transports. */
    public static StatusRetryPolicy disabled() {
        return DISABLED;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this policy's settings. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.enabled = enabled;
        b.maxRetries = maxRetries;
        b.initialBackoff = initialBackoff;
        b.maxBackoff = maxBackoff;
        b.maxHintedDelay = maxHintedDelay;
        b.anyMethodStatuses = anyMethodStatuses.clone();
        b.idempotentStatuses = idempotentStatuses.clone();
        b.clock = clock;
        b.random = random;
        return b;
    }

    /**
     * Decides whether to send the request again after an error response.
     *
     * @param method             the request method, upper case
     * @param status             the response status
     * @param headers            the response headers ({@code retry-after-ms}, {@code Retry-After},
     *                           {@code x-should-retry})
     * @param attemptsSoFar      attempts already made, counting the one that produced this response (so 1 after the
     *                           first response)
     * @param remainingDeadline  time left before the request's deadline, or null when it has none
     * @param bodyBytesDelivered whether any byte of the response body already reached the caller
     */
    public RetryDecision decide(String method, int status, HeaderLookup headers, int attemptsSoFar,
            Duration remainingDeadline, boolean bodyBytesDelivered) {
        return decide(method, Methods.isIdempotent(method), status, headers, attemptsSoFar, remainingDeadline,
                bodyBytesDelivered);
    }

    /**
     * As {@link #decide(String, int, HeaderLookup, int, Duration, boolean)}, for a request whose idempotence is known
     * beyond its method (the caller marked it, or it carries an {@code Idempotency-Key}).
     *
     * @param idempotent whether sending the request twice is harmless; 5xx statuses other than 503 retry only then
     */
    public RetryDecision decide(String method, boolean idempotent, int status, HeaderLookup headers, int attemptsSoFar,
            Duration remainingDeadline, boolean bodyBytesDelivered) {
        Objects.requireNonNull(headers, "headers");
        if (attemptsSoFar < 1) {
            throw new IllegalArgumentException("attemptsSoFar counts the attempt that failed, so it is at least 1, was "
                    + attemptsSoFar);
        }
        if (!enabled) {
            return RetryDecision.giveUp("status retries are disabled");
        }
        if (bodyBytesDelivered) {
            return RetryDecision.giveUp("response body bytes already reached the caller");
        }
        if (status < 400) {
            return RetryDecision.giveUp(status + " is not an error");
        }
        int retriesSoFar = attemptsSoFar - 1;
        if (retriesSoFar >= maxRetries) {
            return RetryDecision.giveUp(status + " after " + retriesSoFar + " retries: retries exhausted (max "
                    + maxRetries + ")");
        }
        Boolean serverSays = shouldRetryHeader(headers.get(SHOULD_RETRY_HEADER));
        if (Boolean.FALSE.equals(serverSays)) {
            return RetryDecision.giveUp(status + " with x-should-retry: false");
        }
        if (serverSays == null && !isRetryable(idempotent, status)) {
            return RetryDecision.giveUp(status + " is not retryable for " + method);
        }
        String why = serverSays != null ? status + " with x-should-retry: true" : String.valueOf(status);

        Duration delay;
        Optional<Duration> hint = RetryAfter.from(headers, clock);
        if (hint.isPresent() && !hint.get().isZero()) {
            if (hint.get().compareTo(maxHintedDelay) > 0) {
                return RetryDecision.giveUp(why + ": server asked to wait " + hint.get().toMillis()
                        + " ms, more than the " + maxHintedDelay.toMillis() + " ms this policy waits");
            }
            delay = hint.get();
            why += ", server hint " + delay.toMillis() + " ms";
        } else {
            delay = backoff(retriesSoFar);
            why += ", backoff " + delay.toMillis() + " ms";
        }
        if (remainingDeadline != null && delay.compareTo(remainingDeadline) >= 0) {
            return RetryDecision.giveUp(why + " would pass the deadline (" + remainingDeadline.toMillis()
                    + " ms left)");
        }
        return RetryDecision.retryAfter(delay, why + " (retry " + (retriesSoFar + 1) + " of " + maxRetries + ")");
    }

    /** Whether {@code status} is retryable for {@code method} by the status table alone (no headers). */
    public boolean isRetryable(String method, int status) {
        return isRetryable(Methods.isIdempotent(method), status);
    }

    private boolean isRetryable(boolean idempotent, int status) {
        return Arrays.binarySearch(anyMethodStatuses, status) >= 0
                || (idempotent && Arrays.binarySearch(idempotentStatuses, status) >= 0);
    }

    /** The delay before retry number {@code retriesSoFar + 1} when the server gave no hint. */
    Duration backoff(int retriesSoFar) {
        long max = maxBackoff.toNanos();
        // Shift at most 30 places: past that the cap has long been reached, and the shift must not overflow.
        long base = initialBackoff.toNanos() << Math.min(retriesSoFar, 30);
        long capped = base < 0 || base > max ? max : base;
        double jitter = 1.0 - 0.25 * random.getAsDouble(); // the OpenAI SDK's: shaves up to a quarter off
        return Duration.ofNanos((long) (capped * jitter));
    }

    private static Boolean shouldRetryHeader(CharSequence value) {
        if (value == null) {
            return null;
        }
        String v = value.toString().trim();
        if (v.equalsIgnoreCase("true")) {
            return Boolean.TRUE;
        }
        if (v.equalsIgnoreCase("false")) {
            return Boolean.FALSE;
        }
        return null; // anything else: as if absent, like the SDKs
    }

    public boolean enabled() {
        return enabled;
    }

    public int maxRetries() {
        return maxRetries;
    }

    public Duration initialBackoff() {
        return initialBackoff;
    }

    public Duration maxBackoff() {
        return maxBackoff;
    }

    public Duration maxHintedDelay() {
        return maxHintedDelay;
    }

    /** The statuses retried for any method, sorted (a copy). */
    public int[] anyMethodStatuses() {
        return anyMethodStatuses.clone();
    }

    /** The statuses retried for idempotent methods only, sorted (a copy). */
    public int[] idempotentStatuses() {
        return idempotentStatuses.clone();
    }

    @Override
    public String toString() {
        return "StatusRetryPolicy{enabled=" + enabled + ", maxRetries=" + maxRetries + ", anyMethod="
                + Arrays.toString(anyMethodStatuses) + ", idempotent=" + Arrays.toString(idempotentStatuses)
                + ", backoff=" + initialBackoff.toMillis() + ".." + maxBackoff.toMillis() + " ms, maxHintedDelay="
                + maxHintedDelay.toMillis() + " ms}";
    }

    /** Builds a {@link StatusRetryPolicy}. Not thread-safe; {@link #build()} validates and copies. */
    public static final class Builder {
        private boolean enabled = true;
        private int maxRetries = DEFAULT_MAX_RETRIES;
        private Duration initialBackoff = DEFAULT_INITIAL_BACKOFF;
        private Duration maxBackoff = DEFAULT_MAX_BACKOFF;
        private Duration maxHintedDelay = DEFAULT_MAX_HINTED_DELAY;
        private int[] anyMethodStatuses = DEFAULT_ANY_METHOD_STATUSES.clone();
        private int[] idempotentStatuses = DEFAULT_IDEMPOTENT_STATUSES.clone();
        private Clock clock = Clock.systemUTC();
        private DoubleSupplier random = () -> ThreadLocalRandom.current().nextDouble();

        private Builder() {
        }

        public Builder enabled(boolean enabled) {
            this.enabled = enabled;
            return this;
        }

        /** Retries after the first attempt; 0 means a single attempt. */
        public Builder maxRetries(int maxRetries) {
            if (maxRetries < 0) {
                throw new IllegalArgumentException("maxRetries must be >= 0, was " + maxRetries);
            }
            this.maxRetries = maxRetries;
            return this;
        }

        /** Backoff: {@code initial × 2^retries}, capped at {@code max}, with jitter. */
        public Builder backoff(Duration initial, Duration max) {
            requirePositive(initial, "initial backoff");
            requirePositive(max, "max backoff");
            if (max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("max backoff " + max + " is below initial backoff " + initial);
            }
            this.initialBackoff = initial;
            this.maxBackoff = max;
            return this;
        }

        /** The longest server hint honoured; a longer one ends the retries. */
        public Builder maxHintedDelay(Duration maxHintedDelay) {
            requirePositive(maxHintedDelay, "maxHintedDelay");
            this.maxHintedDelay = maxHintedDelay;
            return this;
        }

        /** Replaces the statuses retried for any method (default 429, 503). */
        public Builder anyMethodStatuses(int... statuses) {
            this.anyMethodStatuses = checkedStatuses(statuses);
            return this;
        }

        /** Replaces the statuses retried for idempotent methods only (default 500, 502, 504, 529). */
        public Builder idempotentStatuses(int... statuses) {
            this.idempotentStatuses = checkedStatuses(statuses);
            return this;
        }

        /** The clock that HTTP-date hints are measured against (tests pass a fixed one). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Uniform values in [0, 1) for jitter; must be thread-safe (tests pass a constant). */
        public Builder random(DoubleSupplier random) {
            this.random = Objects.requireNonNull(random, "random");
            return this;
        }

        public StatusRetryPolicy build() {
            return new StatusRetryPolicy(this);
        }

        private static int[] checkedStatuses(int... statuses) {
            int[] sorted = statuses.clone();
            for (int s : sorted) {
                if (s < 400 || s > 599) {
                    throw new IllegalArgumentException("only error statuses (400-599) can be retried, got " + s);
                }
            }
            Arrays.sort(sorted);
            return sorted;
        }

        private static void requirePositive(Duration d, String what) {
            Objects.requireNonNull(d, what);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive, was " + d);
            }
        }
    }
}

package io.sluice.ratelimit;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Fleet mode: the request budget of each route and API key lives in Redis, in a Bucket4j distributed bucket on
 * Lettuce, and every process whose limiter uses the same Redis and key prefix admits from that one bucket. Set
 * with {@link RateLimiter.Builder#fleet}.
 *
 * <pre>{@code
 * RateLimiter limits = RateLimiter.builder()
 *         .fleet(RedisBudgets.builder("redis://redis.internal:6379").timeout(Duration.ofMillis(100)).build())
 *         .build();
 * }</pre>
 *
 * <p>Redis never fails or holds a call: each operation is bounded by {@link Builder#timeout}, after which that
 * admission is decided by the local budget; the first failure is logged once at WARN, the limiter stops asking
 * Redis and probes it (one probe at a time, with backoff) until it answers, logged once at INFO. The bucket's
 * key is {@code prefix + route + ":" + keyHash}: the API key itself never reaches Redis.
 *
 * <p>Bucket4j and Lettuce are optional dependencies of {@code sluice-ratelimit}: add
 * {@code com.bucket4j:bucket4j_jdk17-lettuce} (and {@code io.lettuce:lettuce-core}) to use this class; a limiter
 * without it never loads either.
 *
 * <p><b>Thread-safety:</b> immutable once built; one instance may configure several limiters (each opens its own
 * connection). <b>Ownership:</b> built from a URI, the limiter owns a {@link RedisClient} and closes it with
 * itself; built from your {@link RedisClient}, the limiter opens and closes its own connection, and the client
 * stays yours; built from your connection, the limiter closes nothing.
 */
public final class RedisBudgets {

    final RedisURI uri;
    final RedisClient client;
    final StatefulRedisConnection<String, byte[]> connection;
    final String keyPrefix;
    final Duration timeout;
    final Duration retryMin;
    final Duration retryMax;
    final Duration guard;

    private RedisBudgets(Builder b) {
        this.guard = b.guard;
        this.uri = b.uri;
        this.client = b.client;
        this.connection = b.connection;
        this.keyPrefix = b.keyPrefix;
        this.timeout = b.timeout;
        this.retryMin = b.retryMin;
        this.retryMax = b.retryMax;
    }

    /** Redis at {@code uri} ({@code redis://host:port}); the limiter owns the client it makes. */
    public static Builder builder(String uri) {
        return builder(RedisURI.create(uri));
    }

    /** Redis at {@code uri}; the limiter owns the client it makes. */
    public static Builder builder(RedisURI uri) {
        return new Builder(Objects.requireNonNull(uri, "uri"), null, null);
    }

    /** Your client, to Redis at {@code uri}: the limiter opens (and closes) its own connection; the client stays yours. */
    public static Builder builder(RedisClient client, RedisURI uri) {
        return new Builder(Objects.requireNonNull(uri, "uri"), Objects.requireNonNull(client, "client"), null);
    }

    /**
     * Your connection (codec: UTF-8 string keys, byte-array values, e.g.
     * {@code RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE)}); the limiter never closes it.
     */
    public static Builder builder(StatefulRedisConnection<String, byte[]> connection) {
        return new Builder(null, null, Objects.requireNonNull(connection, "connection"));
    }

    /** Starts the fleet for one limiter: connects asynchronously (the limiter decides locally until connected). */
    Fleet start(ScheduledExecutorService timer) {
        return new RedisFleet(this, timer);
    }

    /** Settings of {@link RedisBudgets}. <b>Thread-safety:</b> not thread-safe; build once. */
    public static final class Builder {
        private final RedisURI uri;
        private final RedisClient client;
        private final StatefulRedisConnection<String, byte[]> connection;
        private String keyPrefix = "sluice:ratelimit:";
        private Duration timeout = Duration.ofMillis(100);
        private Duration retryMin = Duration.ofMillis(250);
        private Duration retryMax = Duration.ofSeconds(5);
        private Duration guard = Duration.ofMillis(50);

        private Builder(RedisURI uri, RedisClient client, StatefulRedisConnection<String, byte[]> connection) {
            this.uri = uri;
            this.client = client;
            this.connection = connection;
        }

        /** The prefix of every Redis key (default {@code sluice:ratelimit:}): processes share budgets by prefix. */
        public Builder keyPrefix(String keyPrefix) {
            this.keyPrefix = Objects.requireNonNull(keyPrefix, "keyPrefix");
            return this;
        }

        /**
         * How long one admission waits for Redis before the local budget decides instead (default 100 ms). It is
         * added to a request's latency only while Redis is slow: once it failed, admissions go local at once.
         */
        public Builder timeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be positive: " + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        /** The backoff between probes of an unavailable Redis: from {@code min}, doubling up to {@code max}. */
        public Builder retryBackoff(Duration min, Duration max) {
            if (min.isNegative() || min.isZero() || max.compareTo(min) < 0) {
                throw new IllegalArgumentException("need 0 < min <= max: " + min + ", " + max);
            }
            this.retryMin = min;
            this.retryMax = max;
            return this;
        }

        /**
         * Added to the wait of a request the shared bucket reserved for later (default 50 ms). The shared bucket
         * counts a request when it is admitted, the provider when it arrives: without a guard, a reserved request
         * whose trip is quicker than the one that emptied the provider's bucket arrives just before its token and
         * gets a 429. The guard delays only requests that wait anyway; the rate they go out at is unchanged.
         */
        public Builder guard(Duration guard) {
            if (guard.isNegative()) {
                throw new IllegalArgumentException("negative guard: " + guard);
            }
            this.guard = guard;
            return this;
        }

        public RedisBudgets build() {
            return new RedisBudgets(this);
        }
    }
}

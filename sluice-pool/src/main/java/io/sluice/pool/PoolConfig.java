package io.sluice.pool;

import java.time.Duration;
import java.util.Objects;

/**
 * Immutable pool settings. The defaults suit one AI provider route under heavy load: at most
 * 100 connections, 10 kept warm, each replaced after 300 s and closed after 90 s idle, a
 * connect bounded by 10 s and retried 3 times (each constant below says why).
 *
 * <p>An invalid combination is rejected by {@link Builder#build()} with a message that
 * names the field and the value.
 *
 * <p><b>Thread-safety:</b> immutable; safe to share. The builder is not thread-safe.
 *
 * @param maxConnections         connections open or connecting at once, at most (live-resizable on the pool)
 * @param minIdle                connections kept open and warm; pre-warmed at start
 * @param maxLifetime            a connection is retired after this age (minus a random jitter)
 * @param idleTimeout            a connection unused this long is closed, never below minIdle
 * @param connectionTimeout      the longest an acquire waits for a slot; also bounds each connect attempt
 * @param maxRetries             connect attempts retried after the first one fails
 * @param maxPending             callers allowed to wait at once; past it an acquire fails at once
 * @param validationBypassWindow a connection idle for less than this is handed out without validation
 * @param validationTimeout      the longest a validation round trip may take
 * @param lifetimeJitter         fraction of maxLifetime (0 to 0.5) by which each connection's deadline is shortened at random
 * @param connectBackoff         delay before the first connect retry; doubled per retry, with jitter
 * @param maxConnectBackoff      the longest delay between connect retries
 * @param housekeepingInterval   how often idle eviction, lifetime retirement and replenishment run
 * @param leakDetectionThreshold a lease held longer than this is logged with its acquisition stack; zero turns it off
 * @param maxConnecting          connects (TCP + TLS handshake) in flight at once, at most; the rest wait their turn
 * @param failureBackoff         after a connect gave up (all its attempts failed), the pool opens no other connection
 *                               for this long (half fixed, half random), doubled after each further give-up
 * @param maxFailureBackoff      the longest such pause; the first successful connect ends the backoff
 * @param closeGracePeriod       how long {@link Pool#close()} lets leases in flight finish before it closes their
 *                               connections anyway; zero closes them at once, as {@link Pool#closeNow()} does
 * @param streamPlacement        which multiplexed connection a new lease goes to when several have room
 * @param targetStreamsPerConnection leases a multiplexed connection is given before the pool prefers, and opens,
 *                               another (within maxConnections); past it on every connection leases still go
 *                               to the free slots up to each connection's own limit while the new one opens.
 *                               Zero (the default) opens connections only for callers who find no slot at all
 */
public record PoolConfig(
        int maxConnections,
        int minIdle,
        Duration maxLifetime,
        Duration idleTimeout,
        Duration connectionTimeout,
        int maxRetries,
        int maxPending,
        Duration validationBypassWindow,
        Duration validationTimeout,
        double lifetimeJitter,
        Duration connectBackoff,
        Duration maxConnectBackoff,
        Duration housekeepingInterval,
        Duration leakDetectionThreshold,
        int maxConnecting,
        Duration failureBackoff,
        Duration maxFailureBackoff,
        Duration closeGracePeriod,
        StreamPlacement streamPlacement,
        int targetStreamsPerConnection) {

    /** 100: at most this many connections per route, well under providers' per-client limits. */
    public static final int DEFAULT_MAX_CONNECTIONS = 100;
    /** 10: connections kept open while idle, so a burst does not wait for TLS handshakes. */
    public static final int DEFAULT_MIN_IDLE = 10;
    /** 300 s: a connection is replaced after this long, so DNS changes and server rotations are followed. */
    public static final Duration DEFAULT_MAX_LIFETIME = Duration.ofSeconds(300);
    /** 90 s: an idle connection above minIdle is closed after this long, before typical 120 s server idle limits. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(90);
    /** 10 s: the bound on one connect (DNS, TCP, TLS, first SETTINGS) and on waiting for a slot. */
    public static final Duration DEFAULT_CONNECTION_TIMEOUT = Duration.ofSeconds(10);
    /** 3: connect attempts retried before an acquire fails. */
    public static final int DEFAULT_MAX_RETRIES = 3;
    /** Enough for 10 000 concurrent requests queued behind HTTP/1.1 connections. */
    public static final int DEFAULT_MAX_PENDING = 10_000;
    /** 500 ms: a connection used this recently is not validated again on checkout. */
    public static final Duration DEFAULT_VALIDATION_BYPASS_WINDOW = Duration.ofMillis(500);
    /** 2 s: a validation round trip slower than this marks the connection dead. */
    public static final Duration DEFAULT_VALIDATION_TIMEOUT = Duration.ofSeconds(2);
    /** HikariCP takes up to 2.5 % off each lifetime so a warm pool does not reconnect at once. */
    public static final double DEFAULT_LIFETIME_JITTER = 0.025;
    /**
     * Connects in flight at once. A cold burst against an HTTP/1.1 route would otherwise start up to
     * maxConnections handshakes together: a thundering herd at the upstream, and thousands of transient
     * handshake buffers that leave the native heap fragmented (./sluice compare measured 11.8 kB of native
     * memory per idle connection after bursts of 4000, 4.3 to 4.6 kB with this cap).
     */
    public static final int DEFAULT_MAX_CONNECTING = 32;
    /**
     * The first pause after a connect gave up: long enough that a refused port is not hammered (each give-up
     * already made 1 + maxRetries attempts), short enough that a blip costs a second.
     */
    public static final Duration DEFAULT_FAILURE_BACKOFF = Duration.ofSeconds(1);
    /** The longest pause between connects to a failing upstream (1, 2, 4, 8, 16, then 30 s). */
    public static final Duration DEFAULT_MAX_FAILURE_BACKOFF = Duration.ofSeconds(30);
    /** How long a closing pool lets leases in flight finish: the headers timeout (30 s) of a request just sent. */
    public static final Duration DEFAULT_CLOSE_GRACE_PERIOD = Duration.ofSeconds(30);

    /** Validates the fields; use {@link #builder()} rather than this constructor. */
    public PoolConfig {
        requireAtLeast("maxConnections", maxConnections, 1);
        requireAtLeast("minIdle", minIdle, 0);
        if (minIdle > maxConnections) {
            throw new IllegalArgumentException("minIdle (" + minIdle + ") must not exceed maxConnections ("
                    + maxConnections + ")");
        }
        requirePositive("maxLifetime", maxLifetime);
        requirePositive("idleTimeout", idleTimeout);
        requirePositive("connectionTimeout", connectionTimeout);
        requireAtLeast("maxRetries", maxRetries, 0);
        requireAtLeast("maxPending", maxPending, 0);
        requireNonNegative("validationBypassWindow", validationBypassWindow);
        requirePositive("validationTimeout", validationTimeout);
        if (!(lifetimeJitter >= 0.0 && lifetimeJitter <= 0.5)) {
            throw new IllegalArgumentException("lifetimeJitter must be within [0, 0.5], was " + lifetimeJitter);
        }
        requirePositive("connectBackoff", connectBackoff);
        requirePositive("maxConnectBackoff", maxConnectBackoff);
        requirePositive("housekeepingInterval", housekeepingInterval);
        requireNonNegative("leakDetectionThreshold", leakDetectionThreshold);
        requireAtLeast("maxConnecting", maxConnecting, 1);
        requirePositive("failureBackoff", failureBackoff);
        requirePositive("maxFailureBackoff", maxFailureBackoff);
        if (maxFailureBackoff.compareTo(failureBackoff) < 0) {
            throw new IllegalArgumentException("maxFailureBackoff (" + maxFailureBackoff
                    + ") must not be shorter than failureBackoff (" + failureBackoff + ")");
        }
        requireNonNegative("closeGracePeriod", closeGracePeriod);
        Objects.requireNonNull(streamPlacement, "streamPlacement");
        requireAtLeast("targetStreamsPerConnection", targetStreamsPerConnection, 0);
    }

    /** The defaults described above. */
    public static PoolConfig defaults() {
        return builder().build();
    }

    /** A builder holding the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this config's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.maxConnections = maxConnections;
        b.minIdle = minIdle;
        b.maxLifetime = maxLifetime;
        b.idleTimeout = idleTimeout;
        b.connectionTimeout = connectionTimeout;
        b.maxRetries = maxRetries;
        b.maxPending = maxPending;
        b.validationBypassWindow = validationBypassWindow;
        b.validationTimeout = validationTimeout;
        b.lifetimeJitter = lifetimeJitter;
        b.connectBackoff = connectBackoff;
        b.maxConnectBackoff = maxConnectBackoff;
        b.housekeepingInterval = housekeepingInterval;
        b.leakDetectionThreshold = leakDetectionThreshold;
        b.maxConnecting = maxConnecting;
        b.failureBackoff = failureBackoff;
        b.maxFailureBackoff = maxFailureBackoff;
        b.closeGracePeriod = closeGracePeriod;
        b.streamPlacement = streamPlacement;
        b.targetStreamsPerConnection = targetStreamsPerConnection;
        return b;
    }

    private static void requireAtLeast(String field, int value, int min) {
        if (value < min) {
            throw new IllegalArgumentException(field + " must be at least " + min + ", was " + value);
        }
    }

    private static void requirePositive(String field, Duration value) {
        Objects.requireNonNull(value, field);
        if (value.isZero() || value.isNegative()) {
            throw new IllegalArgumentException(field + " must be positive, was " + value);
        }
    }

    private static void requireNonNegative(String field, Duration value) {
        Objects.requireNonNull(value, field);
        if (value.isNegative()) {
            throw new IllegalArgumentException(field + " must not be negative, was " + value);
        }
    }

    /**
     * Builds a {@link PoolConfig}; starts from the defaults.
     *
     * <p><b>Thread-safety:</b> not thread-safe; confine to one thread.
     */
    public static final class Builder {
        private int maxConnections = DEFAULT_MAX_CONNECTIONS;
        private int minIdle = DEFAULT_MIN_IDLE;
        private Duration maxLifetime = DEFAULT_MAX_LIFETIME;
        private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
        private Duration connectionTimeout = DEFAULT_CONNECTION_TIMEOUT;
        private int maxRetries = DEFAULT_MAX_RETRIES;
        private int maxPending = DEFAULT_MAX_PENDING;
        private Duration validationBypassWindow = DEFAULT_VALIDATION_BYPASS_WINDOW;
        private Duration validationTimeout = DEFAULT_VALIDATION_TIMEOUT;
        private double lifetimeJitter = DEFAULT_LIFETIME_JITTER;
        private Duration connectBackoff = Duration.ofMillis(100);
        private Duration maxConnectBackoff = Duration.ofSeconds(2);
        private Duration housekeepingInterval = Duration.ofSeconds(1);
        private Duration leakDetectionThreshold = Duration.ZERO;
        private int maxConnecting = DEFAULT_MAX_CONNECTING;
        private Duration failureBackoff = DEFAULT_FAILURE_BACKOFF;
        private Duration maxFailureBackoff = DEFAULT_MAX_FAILURE_BACKOFF;
        private Duration closeGracePeriod = DEFAULT_CLOSE_GRACE_PERIOD;
        private StreamPlacement streamPlacement = StreamPlacement.PACK;
        private int targetStreamsPerConnection;

        private Builder() {
        }

        public Builder maxConnections(int v) { this.maxConnections = v; return this; }
        public Builder minIdle(int v) { this.minIdle = v; return this; }
        public Builder maxLifetime(Duration v) { this.maxLifetime = v; return this; }
        public Builder idleTimeout(Duration v) { this.idleTimeout = v; return this; }
        public Builder connectionTimeout(Duration v) { this.connectionTimeout = v; return this; }
        public Builder maxRetries(int v) { this.maxRetries = v; return this; }
        public Builder maxPending(int v) { this.maxPending = v; return this; }
        public Builder validationBypassWindow(Duration v) { this.validationBypassWindow = v; return this; }
        public Builder validationTimeout(Duration v) { this.validationTimeout = v; return this; }
        public Builder lifetimeJitter(double v) { this.lifetimeJitter = v; return this; }
        public Builder connectBackoff(Duration v) { this.connectBackoff = v; return this; }
        public Builder maxConnectBackoff(Duration v) { this.maxConnectBackoff = v; return this; }
        public Builder housekeepingInterval(Duration v) { this.housekeepingInterval = v; return this; }
        public Builder leakDetectionThreshold(Duration v) { this.leakDetectionThreshold = v; return this; }
        public Builder maxConnecting(int v) { this.maxConnecting = v; return this; }
        public Builder failureBackoff(Duration v) { this.failureBackoff = v; return this; }
        public Builder maxFailureBackoff(Duration v) { this.maxFailureBackoff = v; return this; }
        public Builder closeGracePeriod(Duration v) { this.closeGracePeriod = v; return this; }
        /** Where new leases go among multiplexed connections with room; {@link StreamPlacement#PACK} by default. */
        public Builder streamPlacement(StreamPlacement v) { this.streamPlacement = v; return this; }
        /**
         * Leases per multiplexed connection before the pool opens another and prefers it; 0 (the default)
         * opens one only when no connection has a free slot.
         */
        public Builder targetStreamsPerConnection(int v) { this.targetStreamsPerConnection = v; return this; }

        /** Validates and builds; throws {@link IllegalArgumentException} naming the bad field and value. */
        public PoolConfig build() {
            return new PoolConfig(maxConnections, minIdle, maxLifetime, idleTimeout, connectionTimeout,
                    maxRetries, maxPending, validationBypassWindow, validationTimeout, lifetimeJitter,
                    connectBackoff, maxConnectBackoff, housekeepingInterval, leakDetectionThreshold, maxConnecting,
                    failureBackoff, maxFailureBackoff, closeGracePeriod, streamPlacement, targetStreamsPerConnection);
        }
    }
}

package io.sluice.testkit;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * Configuration of a {@link MockProvider}. Immutable and thread-safe; build with {@link #builder()}.
 *
 * @param host                 address to bind; must be a loopback address unless
 *                             {@code allowNonLoopback} is set
 * @param tlsPort              TLS port (ALPN h2 and http/1.1); 0 picks a free port
 * @param plainPort            cleartext port (HTTP/1.1 and h2c prior knowledge); 0 picks a free port
 * @param allowNonLoopback     permit binding a non-loopback address
 * @param forceJdkSsl          use the JDK's TLS engine even when BoringSSL is available
 * @param maxConcurrentStreams initial HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS
 * @param initialWindowSize    HTTP/2 SETTINGS_INITIAL_WINDOW_SIZE
 * @param maxFrameSize         HTTP/2 SETTINGS_MAX_FRAME_SIZE
 * @param idleTimeout          close connections without open streams idle this long (HTTP/1.1
 *                             responses also carry {@code Keep-Alive: timeout=N}); zero disables
 * @param maxRequestBodyBytes  larger request bodies get 413
 * @param requiredApiKey       when non-null, requests to {@code /v1/*} must carry this key as
 *                             {@code Authorization: Bearer} or {@code x-api-key}
 * @param ioThreads            event loop threads; 0 lets Netty choose (twice the core count)
 * @param rateLimitRequests    the request budget per {@code rateLimitWindow}: the limit the rate-limit
 *                             headers report, and with {@code enforceRateLimits} the enforced one
 * @param rateLimitTokens      the token budget per {@code rateLimitWindow}, likewise
 * @param behavior             default answer behaviour; request headers override it
 * @param goAwayDrainTimeout   after a graceful GOAWAY, the longest an HTTP/2 connection waits for
 *                             its open streams to finish before it is closed anyway
 * @param ignorePings          HTTP/2: leave PING frames unanswered (no ACK), so clients can test
 *                             their PING timeout; {@link MockProvider#ignorePings(boolean)} changes
 *                             it at runtime
 * @param enforceRateLimits    enforce {@code rateLimitRequests} and {@code rateLimitTokens} as the
 *                             providers do: a continuously refilled token bucket per budget, shared
 *                             by every connection and protocol of the server; a request that does
 *                             not fit gets 429 with {@code retry-after} and takes nothing. A request
 *                             to a limited endpoint ({@code /v1/chat/completions}, {@code /v1/responses},
 *                             {@code /v1/messages}, {@code /v1/embeddings}) costs one request and
 *                             {@code max(1, body bytes / 4)} (the prompt estimate the mock also reports
 *                             as prompt/input tokens) plus its output budget: {@code max_tokens}
 *                             ({@code max_completion_tokens}, {@code max_output_tokens}), else the
 *                             answer's token count ({@link MockBehavior#tokens()}); embeddings have no
 *                             output. Off by default: the headers then report a one-minute count
 *                             against the limits and nothing is refused
 * @param rateLimitWindow      the time in which an empty bucket refills completely (the "per minute"
 *                             of RPM/TPM); whole milliseconds, 1 ms to 24 h
 * @param rateLimitClock       the time source of the enforced limit only (tests pass a clock they
 *                             advance by hand); its wall-clock reading also dates Anthropic's reset
 *                             instants. Read from event-loop threads, so it must be thread-safe;
 *                             default {@link Clock#systemUTC()}
 * @param rateLimitDraftHeaders with {@code enforceRateLimits}, also send the IETF draft's
 *                             {@code RateLimit-Policy} and {@code RateLimit} fields
 *                             (draft-ietf-httpapi-ratelimit-headers-09)
 */
public record MockOptions(
        String host,
        int tlsPort,
        int plainPort,
        boolean allowNonLoopback,
        boolean forceJdkSsl,
        int maxConcurrentStreams,
        int initialWindowSize,
        int maxFrameSize,
        Duration idleTimeout,
        int maxRequestBodyBytes,
        String requiredApiKey,
        int ioThreads,
        long rateLimitRequests,
        long rateLimitTokens,
        MockBehavior behavior,
        Duration goAwayDrainTimeout,
        boolean ignorePings,
        boolean enforceRateLimits,
        Duration rateLimitWindow,
        Clock rateLimitClock,
        boolean rateLimitDraftHeaders) {

    /** The longest {@link #rateLimitWindow()}: a day, as in requests-per-day limits. */
    public static final Duration MAX_RATE_LIMIT_WINDOW = Duration.ofHours(24);

    /** Default request body limit: 8 MiB. */
    public static final int DEFAULT_MAX_REQUEST_BODY_BYTES = 8 * 1024 * 1024;

    /** Validates every field; see the builder for defaults. */
    public MockOptions {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(behavior, "behavior");
        Objects.requireNonNull(goAwayDrainTimeout, "goAwayDrainTimeout");
        if (goAwayDrainTimeout.isNegative()) {
            throw new IllegalArgumentException("goAwayDrainTimeout must not be negative, got " + goAwayDrainTimeout);
        }
        checkPort("tlsPort", tlsPort);
        checkPort("plainPort", plainPort);
        if (maxConcurrentStreams < 0) {
            throw new IllegalArgumentException("maxConcurrentStreams must be >= 0, got " + maxConcurrentStreams);
        }
        if (initialWindowSize < 0) {
            throw new IllegalArgumentException("initialWindowSize must be >= 0, got " + initialWindowSize);
        }
        if (maxFrameSize < 16_384 || maxFrameSize > 16_777_215) {
            throw new IllegalArgumentException("maxFrameSize must be in [16384, 16777215], got " + maxFrameSize);
        }
        if (idleTimeout.isNegative()) {
            throw new IllegalArgumentException("idleTimeout must not be negative, got " + idleTimeout);
        }
        if (maxRequestBodyBytes < 1) {
            throw new IllegalArgumentException("maxRequestBodyBytes must be >= 1, got " + maxRequestBodyBytes);
        }
        if (requiredApiKey != null && requiredApiKey.isBlank()) {
            throw new IllegalArgumentException("requiredApiKey must not be blank; pass null to accept any key");
        }
        if (ioThreads < 0) {
            throw new IllegalArgumentException("ioThreads must be >= 0, got " + ioThreads);
        }
        if (rateLimitRequests < 1 || rateLimitTokens < 1) {
            throw new IllegalArgumentException("rate limits must be >= 1");
        }
        Objects.requireNonNull(rateLimitWindow, "rateLimitWindow");
        Objects.requireNonNull(rateLimitClock, "rateLimitClock");
        if (rateLimitWindow.compareTo(Duration.ofMillis(1)) < 0 || rateLimitWindow.compareTo(MAX_RATE_LIMIT_WINDOW) > 0
                || rateLimitWindow.toNanos() % 1_000_000 != 0) {
            throw new IllegalArgumentException("rateLimitWindow must be whole milliseconds from 1 ms to 24 h, got "
                    + rateLimitWindow);
        }
        if (enforceRateLimits) {
            checkBudget("rateLimitRequests", rateLimitRequests, rateLimitWindow);
            checkBudget("rateLimitTokens", rateLimitTokens, rateLimitWindow);
        }
        if (!allowNonLoopback && !isLoopback(host)) {
            throw new IllegalArgumentException("refusing to bind the mock provider to non-loopback address '"
                    + host + "'; set allowNonLoopback(true) to expose it beyond this machine");
        }
    }

    /** The defaults: 127.0.0.1, ephemeral ports, 256 streams, 60 s idle timeout. */
    public static MockOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    private static void checkPort(String name, int port) {
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException(name + " must be in [0, 65535], got " + port);
        }
    }

    /**
     * The limiter computes in units of 1/windowMs token (see RateLimiter), so (limit + 1) × windowMs
     * must fit in a long with room to add one request's cost; for a 60 s window that is about 7.6e13.
     */
    private static void checkBudget(String name, long limit, Duration window) {
        try {
            Math.multiplyExact(Math.multiplyExact(limit + 1, window.toMillis()), 2);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(name + " " + limit + " is too large for an enforced limit over "
                    + window + " (at most " + (Long.MAX_VALUE / 2 / window.toMillis() - 1) + ")");
        }
    }

    private static boolean isLoopback(String host) {
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        try {
            // Only literal addresses are accepted without a lookup; a name could resolve anywhere.
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve bind address '" + host + "'", e);
        }
    }

    /** Mutable builder; not thread-safe, confine to one thread. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int tlsPort;
        private int plainPort;
        private boolean allowNonLoopback;
        private boolean forceJdkSsl;
        private int maxConcurrentStreams = 256;
        private int initialWindowSize = 1024 * 1024;
        private int maxFrameSize = 16_384;
        private Duration idleTimeout = Duration.ofSeconds(60);
        private int maxRequestBodyBytes = DEFAULT_MAX_REQUEST_BODY_BYTES;
        private String requiredApiKey;
        private int ioThreads;
        private long rateLimitRequests = 10_000;
        private long rateLimitTokens = 2_000_000;
        private MockBehavior behavior = MockBehavior.defaults();
        private Duration goAwayDrainTimeout = Duration.ofSeconds(30);
        private boolean ignorePings;
        private boolean enforceRateLimits;
        private Duration rateLimitWindow = Duration.ofSeconds(60);
        private Clock rateLimitClock = Clock.systemUTC();
        private boolean rateLimitDraftHeaders;

        private Builder() {
        }

        private Builder(MockOptions o) {
            host = o.host;
            tlsPort = o.tlsPort;
            plainPort = o.plainPort;
            allowNonLoopback = o.allowNonLoopback;
            forceJdkSsl = o.forceJdkSsl;
            maxConcurrentStreams = o.maxConcurrentStreams;
            initialWindowSize = o.initialWindowSize;
            maxFrameSize = o.maxFrameSize;
            idleTimeout = o.idleTimeout;
            maxRequestBodyBytes = o.maxRequestBodyBytes;
            requiredApiKey = o.requiredApiKey;
            ioThreads = o.ioThreads;
            rateLimitRequests = o.rateLimitRequests;
            rateLimitTokens = o.rateLimitTokens;
            behavior = o.behavior;
            goAwayDrainTimeout = o.goAwayDrainTimeout;
            ignorePings = o.ignorePings;
            enforceRateLimits = o.enforceRateLimits;
            rateLimitWindow = o.rateLimitWindow;
            rateLimitClock = o.rateLimitClock;
            rateLimitDraftHeaders = o.rateLimitDraftHeaders;
        }

        public Builder host(String v) { host = v; return this; }
        public Builder tlsPort(int v) { tlsPort = v; return this; }
        public Builder plainPort(int v) { plainPort = v; return this; }
        public Builder allowNonLoopback(boolean v) { allowNonLoopback = v; return this; }
        public Builder forceJdkSsl(boolean v) { forceJdkSsl = v; return this; }
        public Builder maxConcurrentStreams(int v) { maxConcurrentStreams = v; return this; }
        public Builder initialWindowSize(int v) { initialWindowSize = v; return this; }
        public Builder maxFrameSize(int v) { maxFrameSize = v; return this; }
        public Builder idleTimeout(Duration v) { idleTimeout = v; return this; }
        public Builder maxRequestBodyBytes(int v) { maxRequestBodyBytes = v; return this; }
        public Builder requiredApiKey(String v) { requiredApiKey = v; return this; }
        public Builder ioThreads(int v) { ioThreads = v; return this; }
        public Builder rateLimitRequests(long v) { rateLimitRequests = v; return this; }
        public Builder rateLimitTokens(long v) { rateLimitTokens = v; return this; }
        public Builder behavior(MockBehavior v) { behavior = v; return this; }
        public Builder goAwayDrainTimeout(Duration v) { goAwayDrainTimeout = v; return this; }
        public Builder ignorePings(boolean v) { ignorePings = v; return this; }
        public Builder enforceRateLimits(boolean v) { enforceRateLimits = v; return this; }
        public Builder rateLimitWindow(Duration v) { rateLimitWindow = v; return this; }
        public Builder rateLimitClock(Clock v) { rateLimitClock = v; return this; }
        public Builder rateLimitDraftHeaders(boolean v) { rateLimitDraftHeaders = v; return this; }

        /** @throws IllegalArgumentException when a value is invalid (e.g. a non-loopback host) */
        public MockOptions build() {
            return new MockOptions(host, tlsPort, plainPort, allowNonLoopback, forceJdkSsl,
                    maxConcurrentStreams, initialWindowSize, maxFrameSize, idleTimeout, maxRequestBodyBytes,
                    requiredApiKey, ioThreads, rateLimitRequests, rateLimitTokens, behavior, goAwayDrainTimeout,
                    ignorePings, enforceRateLimits, rateLimitWindow, rateLimitClock, rateLimitDraftHeaders);
        }
    }
}

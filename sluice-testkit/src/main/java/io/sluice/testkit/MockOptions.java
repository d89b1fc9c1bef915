package io.sluice.testkit;

import java.net.InetAddress;
import java.net.UnknownHostException;
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
 * @param rateLimitRequests    value of the request rate-limit headers' limit, per minute
 * @param rateLimitTokens      value of the token rate-limit headers' limit, per minute
 * @param behavior             default answer behaviour; request headers override it
 * @param goAwayDrainTimeout   after a graceful GOAWAY, the longest an HTTP/2 connection waits for
 *                             its open streams to finish before it is closed anyway
 * @param ignorePings          HTTP/2: leave PING frames unanswered (no ACK), so clients can test
 *                             their PING timeout; {@link MockProvider#ignorePings(boolean)} changes
 *                             it at runtime
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
        boolean ignorePings) {

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

        /** @throws IllegalArgumentException when a value is invalid (e.g. a non-loopback host) */
        public MockOptions build() {
            return new MockOptions(host, tlsPort, plainPort, allowNonLoopback, forceJdkSsl,
                    maxConcurrentStreams, initialWindowSize, maxFrameSize, idleTimeout, maxRequestBodyBytes,
                    requiredApiKey, ioThreads, rateLimitRequests, rateLimitTokens, behavior, goAwayDrainTimeout,
                    ignorePings);
        }
    }
}

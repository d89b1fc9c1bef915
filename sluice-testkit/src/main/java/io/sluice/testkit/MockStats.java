package io.sluice.testkit;

import java.util.Map;

/**
 * A point-in-time copy of a {@link MockProvider}'s counters. Immutable and thread-safe. Fields are
 * read one by one from atomics, so a snapshot taken under load is not one atomic cut.
 *
 * @param connectionsAccepted      connections accepted on both ports since start or the last reset
 * @param connectionsOpen          connections open now (a gauge, not reset)
 * @param tlsHandshakesFull        TLS handshakes that negotiated a new session
 * @param tlsHandshakesResumed     TLS handshakes that resumed a session (ticket or session cache)
 * @param tlsHandshakesFailed      TLS handshakes that failed
 * @param requestsByPath           requests per path (query stripped); unknown paths count under
 *                                 {@value StatsRecorder#OTHER_PATH}
 * @param maxStreamsOnOneConnection most streams open at once on one connection
 * @param maxStreamsOverall        most streams open at once across all connections
 * @param openStreams              streams open now (a gauge, not reset)
 * @param http2Connections         connections that negotiated HTTP/2 (TLS ALPN or h2c prior knowledge)
 * @param websocketSessions        WebSocket sessions established
 * @param barriersCompleted        barriers ({@link MockBarrier}) released because every party arrived
 * @param barrierTimeouts          barriers released by their deadline with parties still missing
 * @param rateLimitAdmitted        with {@link MockOptions#enforceRateLimits()}: requests to the limited
 *                                 endpoints that fitted the budget and took from it
 * @param rateLimitRejected        with {@link MockOptions#enforceRateLimits()}: requests answered 429
 *                                 because they did not fit (they took nothing)
 */
public record MockStats(
        long connectionsAccepted,
        long connectionsOpen,
        long tlsHandshakesFull,
        long tlsHandshakesResumed,
        long tlsHandshakesFailed,
        Map<String, Long> requestsByPath,
        long maxStreamsOnOneConnection,
        long maxStreamsOverall,
        long openStreams,
        long http2Connections,
        long websocketSessions,
        long barriersCompleted,
        long barrierTimeouts,
        long rateLimitAdmitted,
        long rateLimitRejected) {

    public MockStats {
        requestsByPath = Map.copyOf(requestsByPath);
    }

    /** Requests seen on {@code path}, 0 when none. */
    public long requests(String path) {
        return requestsByPath.getOrDefault(path, 0L);
    }

    /** Requests on all paths. */
    public long totalRequests() {
        return requestsByPath.values().stream().mapToLong(Long::longValue).sum();
    }
}

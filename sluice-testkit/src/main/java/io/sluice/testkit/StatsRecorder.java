package io.sluice.testkit;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The live counters behind {@link MockStats}. Thread-safe: every field is an atomic or a
 * {@link LongAdder}, written from event loops and read from any thread. Owned by one
 * {@link MockProvider}.
 */
final class StatsRecorder {
    static final String OTHER_PATH = "(other)";

    /** Paths counted individually; anything else counts as {@link #OTHER_PATH} to bound the map. */
    private static final Set<String> KNOWN_PATHS = Set.of(
            Routes.CHAT_COMPLETIONS, Routes.RESPONSES, Routes.MESSAGES, Routes.EMBEDDINGS, Routes.MODELS,
            Routes.GENERATE_204, Routes.PING, Routes.REALTIME);

    private final LongAdder connectionsAccepted = new LongAdder();
    private final AtomicLong connectionsOpen = new AtomicLong();
    private final LongAdder handshakesFull = new LongAdder();
    private final LongAdder handshakesResumed = new LongAdder();
    private final LongAdder handshakesFailed = new LongAdder();
    private final ConcurrentHashMap<String, LongAdder> requestsByPath = new ConcurrentHashMap<>();
    private final AtomicLong maxStreamsOnOneConnection = new AtomicLong();
    private final AtomicLong maxStreamsOverall = new AtomicLong();
    private final AtomicLong openStreams = new AtomicLong();
    private final LongAdder http2Connections = new LongAdder();
    private final LongAdder websocketSessions = new LongAdder();
    private final LongAdder barriersCompleted = new LongAdder();
    private final LongAdder barrierTimeouts = new LongAdder();
    private final LongAdder rateLimitAdmitted = new LongAdder();
    private final LongAdder rateLimitRejected = new LongAdder();

    void rateLimit(boolean admitted) {
        (admitted ? rateLimitAdmitted : rateLimitRejected).increment();
    }

    void barrierCompleted() {
        barriersCompleted.increment();
    }

    void barrierTimedOut() {
        barrierTimeouts.increment();
    }

    void connectionOpened() {
        connectionsAccepted.increment();
        connectionsOpen.incrementAndGet();
    }

    void connectionClosed() {
        connectionsOpen.decrementAndGet();
    }

    void handshake(boolean resumed) {
        (resumed ? handshakesResumed : handshakesFull).increment();
    }

    void handshakeFailed() {
        handshakesFailed.increment();
    }

    void http2Connection() {
        http2Connections.increment();
    }

    void websocketSession() {
        websocketSessions.increment();
    }

    void request(String path) {
        String key = KNOWN_PATHS.contains(path) ? path : OTHER_PATH;
        requestsByPath.computeIfAbsent(key, k -> new LongAdder()).increment();
    }

    /** Records one more stream; {@code onConnection} is the connection's open-stream count after it. */
    void streamOpened(long onConnection) {
        long overall = openStreams.incrementAndGet();
        maxStreamsOverall.accumulateAndGet(overall, Math::max);
        maxStreamsOnOneConnection.accumulateAndGet(onConnection, Math::max);
    }

    void streamClosed() {
        openStreams.decrementAndGet();
    }

    void reset() {
        connectionsAccepted.reset();
        handshakesFull.reset();
        handshakesResumed.reset();
        handshakesFailed.reset();
        requestsByPath.clear();
        http2Connections.reset();
        websocketSessions.reset();
        barriersCompleted.reset();
        barrierTimeouts.reset();
        rateLimitAdmitted.reset();
        rateLimitRejected.reset();
        // Maxima restart from what is open now, so a reset mid-load does not under-report.
        maxStreamsOverall.set(openStreams.get());
        maxStreamsOnOneConnection.set(0);
    }

    MockStats snapshot() {
        Map<String, Long> paths = new HashMap<>();
        requestsByPath.forEach((k, v) -> paths.put(k, v.sum()));
        return new MockStats(connectionsAccepted.sum(), connectionsOpen.get(), handshakesFull.sum(),
                handshakesResumed.sum(), handshakesFailed.sum(), paths, maxStreamsOnOneConnection.get(),
                maxStreamsOverall.get(), openStreams.get(), http2Connections.sum(), websocketSessions.sum(),
                barriersCompleted.sum(), barrierTimeouts.sum(), rateLimitAdmitted.sum(), rateLimitRejected.sum());
    }
}

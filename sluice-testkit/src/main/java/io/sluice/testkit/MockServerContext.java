package io.sluice.testkit;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What every handler of one server shares: options, the current default behaviour, counters,
 * rate-limit window or enforced limiter, and id source. Thread-safe: fields are final, atomics or volatile; owned by
 * one {@link MockProvider}.
 */
final class MockServerContext {
    final MockOptions options;
    final StatsRecorder stats = new StatsRecorder();
    final ConnectionRegistry connections = new ConnectionRegistry();
    final Barriers barriers = new Barriers(stats);
    final ProviderHeaders headers;
    /** The enforced rate limit, shared by every connection; null unless {@link MockOptions#enforceRateLimits()}. */
    final RateLimiter limiter;
    final ObjectMapper json = new ObjectMapper();
    final AtomicInteger maxConcurrentStreams;
    /** Replaced whole by {@link MockProvider#behavior(MockBehavior)}; read once per request. */
    private volatile MockBehavior behavior;
    /** Read by every HTTP/2 connection on each PING; see {@link MockProvider#ignorePings(boolean)}. */
    private volatile boolean ignorePings;
    /** HTTP/2 PING ACKs written, on every connection; see {@link MockProvider#pingsAnswered()}. */
    final AtomicLong pingsAnswered = new AtomicLong();

    MockServerContext(MockOptions options) {
        this.options = options;
        this.behavior = options.behavior();
        this.ignorePings = options.ignorePings();
        this.maxConcurrentStreams = new AtomicInteger(options.maxConcurrentStreams());
        this.headers = new ProviderHeaders(options);
        this.limiter = options.enforceRateLimits() ? new RateLimiter(options) : null;
    }

    MockBehavior behavior() {
        return behavior;
    }

    void behavior(MockBehavior b) {
        behavior = b;
    }

    boolean ignorePings() {
        return ignorePings;
    }

    void ignorePings(boolean ignore) {
        ignorePings = ignore;
    }
}

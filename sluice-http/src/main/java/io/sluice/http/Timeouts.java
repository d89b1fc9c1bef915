package io.sluice.http;

import java.time.Duration;
import java.util.Objects;

/**
 * Default per-request time bounds; each request may override them. Acquire is bounded
 * by the pool's {@code connectionTimeout}.
 *
 * <p><b>Thread-safety:</b> immutable.
 *
 * @param connect  one TCP connect plus TLS handshake (the pool retries failed connects)
 * @param headers  from sending the request to its response headers (30 s by default)
 * @param bodyIdle the longest gap between two response body bytes while the caller waits for more
 * @param total    the whole exchange including acquire, replays and retries, or null for none (AI streams run long)
 */
public record Timeouts(Duration connect, Duration headers, Duration bodyIdle, Duration total) {

    public Timeouts {
        requirePositive("connect", connect);
        requirePositive("headers", headers);
        requirePositive("bodyIdle", bodyIdle);
        if (total != null) {
            requirePositive("total", total);
        }
    }

    /** connect 10 s, headers 30 s, body idle 30 s, no overall deadline. */
    public static Timeouts defaults() {
        return new Timeouts(Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(30), null);
    }

    private static void requirePositive(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(name + " timeout must be positive, was " + d);
        }
    }
}

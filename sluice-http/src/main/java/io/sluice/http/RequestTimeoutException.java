package io.sluice.http;

import java.time.Duration;

/** A deadline passed; {@link #phase()} names which one. Immutable. */
public final class RequestTimeoutException extends SluiceHttpException {

    /** The bounded phases of an exchange. */
    public enum Phase {
        /** Waiting for a pool slot (the pool's connectionTimeout). */
        ACQUIRE,
        /** Opening the TCP/TLS connection. */
        CONNECT,
        /** From sending the request to the response headers (30 s by default: long enough for a slow model's first token). */
        HEADERS,
        /** The longest gap between two body bytes of a response. */
        BODY_IDLE,
        /** The optional overall deadline of the whole exchange. */
        TOTAL
    }

    private final Phase phase;
    private final Duration limit;

    public RequestTimeoutException(String route, Phase phase, Duration limit, Throwable cause) {
        this(route, phase, limit, null, cause);
    }

    /** With {@code detail} (e.g. "during the TLS handshake") appended to the message in parentheses. */
    public RequestTimeoutException(String route, Phase phase, Duration limit, String detail, Throwable cause) {
        super(route, phase.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + " timeout after "
                + limit.toMillis() + " ms" + (detail == null ? "" : " (" + detail + ")"), cause);
        this.phase = phase;
        this.limit = limit;
    }

    public Phase phase() {
        return phase;
    }

    public Duration limit() {
        return limit;
    }

    @Override
    public boolean retryable() {
        return phase == Phase.ACQUIRE || phase == Phase.CONNECT;
    }
}

package io.sluice.http;

import java.time.Duration;

/**
 * HTTP/2 settings of a client. The defaults are the seed's hyper settings: initial stream
 * window 65 536, connection window 131 072, adaptive window on, at most 100 concurrent
 * streams per connection; plus keepalive PINGs on idle connections.
 *
 * <p><b>Thread-safety:</b> immutable.
 *
 * @param initialStreamWindow  SETTINGS_INITIAL_WINDOW_SIZE we announce (bytes)
 * @param connectionWindow     the connection-level receive window (bytes); raised from 65 535 by a WINDOW_UPDATE
 * @param adaptiveWindow       grow both windows from a bandwidth-delay estimate (PING on data), up to maxWindow
 * @param maxWindow            the largest window the adaptive estimate may set
 * @param maxConcurrentStreams our cap on streams per connection; the effective capacity is
 *                             min(this, the peer's SETTINGS_MAX_CONCURRENT_STREAMS)
 * @param pingInterval         an idle connection (no open stream) sends a keepalive PING this often
 * @param pingTimeout          a PING unanswered this long marks the connection broken
 */
public record Http2Settings(int initialStreamWindow, int connectionWindow, boolean adaptiveWindow, int maxWindow,
                            int maxConcurrentStreams, Duration pingInterval, Duration pingTimeout) {

    /** The seed's initial stream window. */
    public static final int DEFAULT_INITIAL_STREAM_WINDOW = 65_536;
    /** The seed's connection window. */
    public static final int DEFAULT_CONNECTION_WINDOW = 131_072;
    /** hyper's adaptive-window ceiling. */
    public static final int DEFAULT_MAX_WINDOW = 16 * 1024 * 1024;
    /** The seed's max concurrent streams. */
    public static final int DEFAULT_MAX_CONCURRENT_STREAMS = 100;

    public Http2Settings {
        if (initialStreamWindow < 1 || connectionWindow < 65_535 || maxWindow < initialStreamWindow
                || maxWindow < connectionWindow) {
            throw new IllegalArgumentException("invalid windows: stream " + initialStreamWindow + ", connection "
                    + connectionWindow + " (at least 65535), max " + maxWindow);
        }
        if (maxConcurrentStreams < 1) {
            throw new IllegalArgumentException("maxConcurrentStreams must be at least 1, was " + maxConcurrentStreams);
        }
        if (pingInterval.isNegative() || pingInterval.isZero() || pingTimeout.isNegative() || pingTimeout.isZero()) {
            throw new IllegalArgumentException("pingInterval and pingTimeout must be positive");
        }
    }

    /** The seed's settings, keepalive PING every 30 s on idle connections, 5 s PING timeout. */
    public static Http2Settings defaults() {
        return new Http2Settings(DEFAULT_INITIAL_STREAM_WINDOW, DEFAULT_CONNECTION_WINDOW, true, DEFAULT_MAX_WINDOW,
                DEFAULT_MAX_CONCURRENT_STREAMS, Duration.ofSeconds(30), Duration.ofSeconds(5));
    }

    public Http2Settings withMaxConcurrentStreams(int n) {
        return new Http2Settings(initialStreamWindow, connectionWindow, adaptiveWindow, maxWindow, n, pingInterval,
                pingTimeout);
    }

    public Http2Settings withAdaptiveWindow(boolean on) {
        return new Http2Settings(initialStreamWindow, connectionWindow, on, maxWindow, maxConcurrentStreams,
                pingInterval, pingTimeout);
    }

    public Http2Settings withPing(Duration interval, Duration timeout) {
        return new Http2Settings(initialStreamWindow, connectionWindow, adaptiveWindow, maxWindow,
                maxConcurrentStreams, interval, timeout);
    }
}

package io.sluice.http;

import java.time.Duration;

/**
 * HTTP/2 settings of a client. The defaults: initial stream window 64 KiB and connection
 * window 128 KiB (small while a connection is new, so idle connections cost little memory),
 * grown by the adaptive window to what the measured bandwidth-delay product needs; at most 100
 * concurrent streams per connection (the value most providers announce); keepalive PINGs on
 * idle connections, so a dead one is found before a request is sent on it.
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

    /** 64 KiB: the receive window each new stream starts with. */
    public static final int DEFAULT_INITIAL_STREAM_WINDOW = 65_536;
    /** 128 KiB: the receive window a new connection starts with, shared by its streams. */
    public static final int DEFAULT_CONNECTION_WINDOW = 131_072;
    /** 16 MiB: the largest window the adaptive estimate may grow to. */
    public static final int DEFAULT_MAX_WINDOW = 16 * 1024 * 1024;
    /** 100: our cap on streams per connection, the limit most providers announce. */
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

    /** The defaults above, with a keepalive PING every 30 s on idle connections and a 5 s PING timeout. */
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

package io.sluice.http.transport;

/**
 * Bandwidth-delay-product estimate for the adaptive HTTP/2 receive window, after hyper's
 * and grpc-go's: when DATA arrives and no estimation PING is out, a PING is sent and the
 * bytes received until its ACK are counted. That count is one round trip's worth of data;
 * when it reaches 2/3 of the current window at a new bandwidth maximum, the window is too
 * small to keep the pipe full, so it grows to twice the sample (capped).
 *
 * <p><b>Thread-safety:</b> not thread-safe; confined to the connection's event loop.
 */
final class BdpEstimator {

    private final int maxWindow;
    private final int connectionWindow;
    private int window;
    private long sampleBytes;
    private boolean pingOut;
    private long pingSentNanos;
    private double maxBandwidth;

    /** Windows to announce after an ACK: the connection window and SETTINGS_INITIAL_WINDOW_SIZE. */
    record Windows(int connection, int stream, boolean streamChanged) {
    }

    BdpEstimator(int initialWindow, int connectionWindow, int maxWindow) {
        this.window = initialWindow;
        this.connectionWindow = connectionWindow;
        this.maxWindow = maxWindow;
    }

    /** Counts received DATA bytes; true when an estimation PING should be sent now. */
    boolean onData(int bytes, int activeStreams, long nowNanos) {
        if (window >= maxWindow) {
            return false; // nothing left to grow
        }
        sampleBytes += bytes;
        if (!pingOut) {
            pingOut = true;
            pingSentNanos = nowNanos;
            sampleBytes = bytes;
            return true;
        }
        return false;
    }

    Windows onPingAck(int activeStreams, long nowNanos) {
        int g = onPingAck(nowNanos);
        return g == 0 ? null : new Windows(Math.max(connectionWindow, g), g, true);
    }

    /** The estimation PING was acknowledged; returns the new window, or 0 when it stays. */
    int onPingAck(long nowNanos) {
        if (!pingOut) {
            return 0;
        }
        pingOut = false;
        long rtt = Math.max(1, nowNanos - pingSentNanos);
        if (sampleBytes < (long) window * 2 / 3) {
            return 0;
        }
        double bandwidth = (double) sampleBytes / rtt;
        if (bandwidth <= maxBandwidth) {
            return 0;
        }
        maxBandwidth = bandwidth;
        int next = (int) Math.min(maxWindow, sampleBytes * 2);
        if (next <= window) {
            return 0;
        }
        window = next;
        return next;
    }

    int streamWindow() {
        return window;
    }
}

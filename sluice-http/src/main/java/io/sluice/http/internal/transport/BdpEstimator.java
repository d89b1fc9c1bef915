package io.sluice.http.internal.transport;

/**
 * Bandwidth-delay-product estimate for the adaptive HTTP/2 receive windows, after hyper's
 * and grpc-go's: when DATA arrives and no estimation PING is out, a PING is sent and the
 * bytes received until its ACK are counted. That count is one round trip's worth of data on
 * the whole connection; when it reaches 2/3 of the window that limited it at a new bandwidth
 * maximum, the windows are too small to keep the pipe full, and the estimate grows to twice
 * the sample (capped at {@code maxWindow}).
 *
 * <p>Why the two windows differ. The sample is connection-wide, so it sizes the connection
 * window (RFC 9113 §6.9.1: the bytes in flight on all streams together). hyper and grpc-go also
 * set every stream's initial window (SETTINGS_INITIAL_WINDOW_SIZE) to the whole estimate; then
 * each of N streams may take all of it: the server is allowed N × the estimate on the stream
 * level, and one stream whose caller stopped reading can hold the entire connection window, so
 * every other stream on the connection stalls. Here a stream gets its share: the estimate
 * divided by the streams active at the ACK, never less than the configured initial window nor
 * more than the connection window. With one stream that is the whole estimate, as before; with
 * N streams their windows add up to the connection window. The stream window follows the
 * stream count both ways: down at once (more streams), up when the estimate grew or the share
 * at least doubled, so that a count that wobbles does not send a SETTINGS frame per round trip.
 * The connection window only grows.
 *
 * <p><b>Thread-safety:</b> not thread-safe; confined to the connection's event loop.
 */
final class BdpEstimator {

    /**
     * Windows to announce after an ACK.
     *
     * @param connection    the connection receive window (only grows)
     * @param stream        SETTINGS_INITIAL_WINDOW_SIZE for every stream
     * @param streamChanged whether {@code stream} differs from the last one returned (a SETTINGS frame is due)
     */
    record Windows(int connection, int stream, boolean streamChanged) {
    }

    private final int initialStreamWindow;
    private final int initialConnectionWindow;
    private final int maxWindow;
    /** Twice the best sample so far, capped; 0 until a sample grew it. */
    private int estimate;
    private int streamWindow;
    private long sampleBytes;
    private boolean pingOut;
    private long pingSentNanos;
    private double maxBandwidth;

    BdpEstimator(int initialStreamWindow, int initialConnectionWindow, int maxWindow) {
        this.initialStreamWindow = initialStreamWindow;
        this.initialConnectionWindow = initialConnectionWindow;
        this.maxWindow = maxWindow;
        this.streamWindow = initialStreamWindow;
    }

    /** Counts received DATA bytes; true when an estimation PING should be sent now. */
    boolean onData(int bytes, int activeStreams, long nowNanos) {
        if (estimate >= maxWindow && !streamWindowDue(activeStreams)) {
            return false; // nothing left to grow, and the stream window fits the stream count
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

    /** The estimation PING was acknowledged; returns the windows to announce, or null when none changes. */
    Windows onPingAck(int activeStreams, long nowNanos) {
        if (!pingOut) {
            return null;
        }
        pingOut = false;
        int streams = Math.max(1, activeStreams);
        boolean grew = false;
        // What limited this round trip: the connection window, or the windows of the streams receiving.
        long limit = Math.min(connectionWindow(), (long) streams * streamWindow);
        long rtt = Math.max(1, nowNanos - pingSentNanos);
        double bandwidth = (double) sampleBytes / rtt;
        if (sampleBytes >= limit * 2 / 3 && bandwidth > maxBandwidth) {
            maxBandwidth = bandwidth;
            int next = (int) Math.min(maxWindow, sampleBytes * 2);
            if (next > estimate) {
                estimate = next;
                grew = true;
            }
        }
        int target = streamTarget(streams);
        boolean streamChanged = due(target, grew);
        if (streamChanged) {
            streamWindow = target;
        }
        return grew || streamChanged ? new Windows(connectionWindow(), streamWindow, streamChanged) : null;
    }

    /** The current SETTINGS_INITIAL_WINDOW_SIZE. */
    int streamWindow() {
        return streamWindow;
    }

    /** The current connection window: the configured one until the estimate passes it. */
    int connectionWindow() {
        return Math.max(initialConnectionWindow, estimate);
    }

    private boolean streamWindowDue(int activeStreams) {
        return due(streamTarget(Math.max(1, activeStreams)), false);
    }

    /** Whether the stream window should move to {@code target}: down always, up when grown or at least doubled. */
    private boolean due(int target, boolean grew) {
        return target < streamWindow || (target > streamWindow && (grew || target >= 2L * streamWindow));
    }

    /** A stream's share of the estimate: at least the configured window, at most the connection window. */
    private int streamTarget(int streams) {
        if (estimate == 0) {
            return initialStreamWindow;
        }
        int share = estimate / streams;
        return Math.min(connectionWindow(), Math.max(initialStreamWindow, share));
    }
}

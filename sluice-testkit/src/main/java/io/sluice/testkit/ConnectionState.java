package io.sluice.testkit;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.util.AttributeKey;
import java.util.ArrayDeque;

/**
 * Per-connection bookkeeping: open streams, streams accepted (for GOAWAY-after-N) and, on HTTP/1.1,
 * pipelined requests waiting for the current response.
 *
 * <p>Confined to the connection's event loop (HTTP/2 stream channels share their parent's loop),
 * except {@link #isHttp2()}, which is volatile because {@link MockProvider} reads it from other
 * threads. Owns the retained pipelined requests and releases them on {@link #closed()}.
 */
final class ConnectionState {
    static final AttributeKey<ConnectionState> KEY = AttributeKey.valueOf(ConnectionState.class, "state");

    /** More pipelined requests than this is abuse, not a client; the connection is closed. */
    private static final int MAX_PIPELINED = 32;

    private final Channel channel;
    private final StatsRecorder stats;
    private volatile boolean http2;
    private int openStreams;
    private int streamsAccepted;
    private int goAwayAfterStreams;
    private boolean goingAway;
    private boolean h1Busy;
    private final ArrayDeque<FullHttpRequest> pipelined = new ArrayDeque<>();

    ConnectionState(Channel channel, StatsRecorder stats, int goAwayAfterStreams) {
        this.channel = channel;
        this.stats = stats;
        this.goAwayAfterStreams = goAwayAfterStreams;
    }

    static ConnectionState of(Channel ch) {
        ConnectionState s = ch.attr(KEY).get();
        if (s == null && ch.parent() != null) {
            // HTTP/2 stream channels carry no state of their own; their parent is the connection.
            s = ch.parent().attr(KEY).get();
        }
        if (s != null) {
            return s;
        }
        throw new IllegalStateException("channel " + ch + " has no connection state");
    }

    Channel channel() {
        return channel;
    }

    boolean isHttp2() {
        return http2;
    }

    void markHttp2() {
        http2 = true;
        stats.http2Connection();
    }

    int openStreams() {
        return openStreams;
    }

    void streamOpened() {
        openStreams++;
        streamsAccepted++;
        stats.streamOpened(openStreams);
        maybeGoAway();
    }

    void streamClosed() {
        openStreams--;
        stats.streamClosed();
    }

    /** A request's {@code x-mock-goaway-after-streams} header sets this connection's limit. */
    void goAwayAfterStreams(int limit) {
        if (limit > 0 && limit != goAwayAfterStreams) {
            goAwayAfterStreams = limit;
            maybeGoAway();
        }
    }

    private void maybeGoAway() {
        if (http2 && !goingAway && goAwayAfterStreams > 0 && streamsAccepted >= goAwayAfterStreams) {
            goingAway = true;
            // Deferred so the stream being set up now is registered first and gets served.
            channel.eventLoop().execute(this::goAway);
        }
    }

    /**
     * HTTP/2: GOAWAY(last-stream-id = the highest stream accepted) now; streams up to it are served to
     * completion, newer ones are refused, and the connection closes when the last open stream ends
     * or after {@link MockOptions#goAwayDrainTimeout()} (Netty's graceful shutdown, bounded by the
     * codec's graceful-shutdown timeout).
     */
    void goAway() {
        goingAway = true;
        channel.close();
    }

    /** HTTP/2: GOAWAY, then the socket is closed as soon as it is written, open streams or not. */
    void goAwayAbruptly() {
        goingAway = true;
        if (channel.isActive()) {
            channel.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR))
                    .addListener(f -> closeNow());
        }
    }

    /** Closes without GOAWAY, close_notify or lingering: the peer sees a reset or EOF. */
    void closeAbruptly() {
        if (channel.isActive()) {
            channel.config().setOption(ChannelOption.SO_LINGER, 0);
        }
        // The first context skips the HTTP/2 and TLS handlers, which would otherwise close politely.
        var first = channel.pipeline().firstContext();
        if (first != null) {
            first.close();
        } else {
            channel.close();
        }
    }

    /** Closes after flushing what is written (FIN), skipping GOAWAY and TLS close_notify. */
    void closeNow() {
        var first = channel.pipeline().firstContext();
        if (first != null) {
            first.close();
        } else {
            channel.close();
        }
    }

    /**
     * HTTP/1.1: returns true when the caller may serve now (one stream is then open), false when the
     * request was queued behind the current one (retained here; the caller keeps its own reference).
     */
    boolean beginH1(FullHttpRequest request) {
        if (!h1Busy) {
            h1Busy = true;
            streamOpened();
            return true;
        }
        if (pipelined.size() >= MAX_PIPELINED) {
            channel.close();
            return false;
        }
        pipelined.add(request.retain());
        return false;
    }

    /** HTTP/1.1: the current response is done; returns the next pipelined request or null. */
    FullHttpRequest endH1() {
        if (!h1Busy) {
            return null;
        }
        streamClosed();
        FullHttpRequest next = pipelined.poll();
        h1Busy = next != null;
        if (h1Busy) {
            streamOpened();
        }
        return next;
    }

    /** HTTP/1.1: the request became a WebSocket session, which stays a stream until close. */
    void upgradedToWebSocket() {
        stats.websocketSession();
    }

    void closed() {
        if (h1Busy) {
            h1Busy = false;
            streamClosed();
        }
        FullHttpRequest r;
        while ((r = pipelined.poll()) != null) {
            r.release();
        }
    }
}

package io.sluice.http.internal.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2LocalFlowController;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.UniformStreamByteDistributor;
import io.sluice.http.HttpRequest;
import io.sluice.http.LimitExceededException;
import io.sluice.http.Limits;
import io.sluice.http.Protocol;
import io.sluice.http.ProtocolException;
import io.sluice.http.Route;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An HTTP/2 connection: many exchanges, one stream each, on Netty's
 * {@link Http2ConnectionHandler} with this class's own stream bookkeeping (a property on
 * each {@link Http2Stream}) rather than a child channel per stream.
 *
 * <ul>
 *   <li>Capacity is min(peer's SETTINGS_MAX_CONCURRENT_STREAMS, our cap), re-read on every
 *   SETTINGS; the pool is told at once. A connection is handed to the pool only after the
 *   peer's first SETTINGS, so its capacity is known from the start.</li>
 *   <li>GOAWAY drains: no new streams ({@link #isBroken()} turns true), streams above the
 *   last-stream-id fail with {@link UnprocessedRequestException} so they are replayed
 *   elsewhere; streams below it finish. REFUSED_STREAM and a local stream-limit refusal
 *   are unprocessed too.</li>
 *   <li>Windows: initial stream window and connection window from the settings (the
 *   connection window is raised from 65 535 by a WINDOW_UPDATE right after the preface);
 *   received bytes are credited back only when the caller is done with them, so a slow
 *   consumer slows the sender. With the adaptive window on, a {@link BdpEstimator} grows
 *   both windows.</li>
 *   <li>PINGs ({@link Http2Pings}): keepalive on an idle connection, checkout validation, and
 *   the window probe. A PING in flight does not stop new streams; one unanswered past its
 *   expected round trip does (capacity 0) until its ACK, and one unanswered past the PING
 *   timeout closes the connection.</li>
 * </ul>
 *
 * <p>The connection keeps the connection's state and writes requests; its collaborators each
 * have one job: {@link Http2ClientHandler} adapts Netty's handler callbacks to that state,
 * {@link Http2Pings} runs the three kinds of PING, {@link H2Exchange} is one stream's state and
 * handle, {@link BdpEstimator} sizes the adaptive windows.
 *
 * <p>It stays above 500 lines because what remains shares one state that has to change in one
 * place: writing a request (HEADERS, body, flush coalescing), the inbound frames that complete it,
 * and the stream and GOAWAY bookkeeping that ends each exchange exactly once all read and write the
 * same stream table, GOAWAY mark and broken flag on the event loop; split further, each part would
 * reach into the others' fields.
 *
 * <p><b>Thread-safety:</b> stream state is confined to the event loop; the fields the
 * pool reads without I/O are volatile.
 */
public final class Http2Connection extends HttpConnection {

    private static final Logger LOG = LoggerFactory.getLogger(Http2Connection.class);
    /** Connection-specific fields that must not appear in HTTP/2 (RFC 9113 §8.2.2). */
    private static final Set<String> CONNECTION_FIELDS = Set.of(
            "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host");

    private final EventLoop loop;
    private final io.sluice.http.Http2Settings cfg;
    private final Limits limits;
    private final ScheduledExecutorService scheduler;
    private final CompletableFuture<Http2Connection> ready = new CompletableFuture<>();

    private volatile boolean broken;
    private volatile boolean goAway;
    private volatile int peerMaxStreams = Integer.MAX_VALUE;
    /** Keepalive, validation and window PINGs; their overdue flag is read by the pool. */
    private final Http2Pings pings;

    // --- event-loop confined
    private Http2ClientHandler handler;
    private ChannelHandlerContext ctx;
    private io.netty.handler.codec.http2.Http2Connection.PropertyKey exchangeKey;
    private final BdpEstimator bdp;
    private int connectionWindow;
    private int goAwayLastStreamId = Integer.MAX_VALUE;
    private long lastReadNanos = System.nanoTime();
    private Throwable lastError;
    /** The inbound protocol violation that ended the connection (a connection error our decoder raised), or null. */
    private Http2Exception peerProtocolError;

    /** Whether requests without their own accept-encoding offer gzip and deflate (the client inflates). */
    private final boolean acceptCompressed;
    private static final io.netty.util.AsciiString ACCEPT_ENCODING = io.netty.util.AsciiString.cached("accept-encoding");
    private static final io.netty.util.AsciiString GZIP_DEFLATE =
            io.netty.util.AsciiString.cached(TransportSettings.ACCEPT_ENCODING);

    private Http2Connection(Route route, Channel channel, ConnectionObserver observer, TransportSettings s,
                            ScheduledExecutorService scheduler) {
        super(route, channel, observer);
        this.loop = channel.eventLoop();
        this.cfg = s.http2();
        this.acceptCompressed = s.acceptCompressed();
        this.limits = s.limits();
        this.scheduler = scheduler;
        this.bdp = cfg.adaptiveWindow() ? new BdpEstimator(cfg.initialStreamWindow(), cfg.connectionWindow(), cfg.maxWindow()) : null;
        this.connectionWindow = cfg.connectionWindow();
        this.pings = new Http2Pings(route, cfg, loop, scheduler, bdp, new PingLink());
    }

    /**
     * Adds the HTTP/2 handler to a connected channel (call on its event loop). The future
     * completes when the peer's first SETTINGS arrived, or fails when the channel closes first.
     */
    static CompletableFuture<Http2Connection> install(Channel ch, Route route, TransportSettings s,
                                                      ConnectionObserver observer, ScheduledExecutorService scheduler) {
        Http2Connection c = new Http2Connection(route, ch, observer, s, scheduler);
        DefaultHttp2Connection nc = new DefaultHttp2Connection(false);
        // Memory: the uniform distributor keeps one small state per stream; Netty's default weighted-fair one adds
        // a priority queue, a state-only map and its removal queue per connection. Priorities are never sent
        // (RFC 9113 deprecates them), and with equal weights both share the window evenly across streams.
        nc.remote().flowController(new DefaultHttp2RemoteFlowController(nc, new UniformStreamByteDistributor(nc)));
        c.exchangeKey = nc.newKey();
        nc.addListener(c.new StreamEvents());
        Http2Settings initial = new Http2Settings()
                .initialWindowSize(s.http2().initialStreamWindow())
                .pushEnabled(false)
                .maxHeaderListSize(s.limits().maxHeaderBlockBytes());
        c.handler = new Http2ClientHandler.Builder(c).frameListener(c.new Frames()).connection(nc)
                .initialSettings(initial).build();
        ch.pipeline().addLast("h2", c.handler);
        c.ctx = ch.pipeline().context(c.handler);
        c.pings.start();
        return c.ready;
    }

    @Override
    public Protocol protocol() {
        return Protocol.H2;
    }

    @Override
    public int capacity() {
        if (isBroken() || pings.overdue()) {
            return 0;
        }
        return Math.min(peerMaxStreams, cfg.maxConcurrentStreams());
    }

    @Override
    public boolean isBroken() {
        return broken || goAway || !channel.isActive();
    }

    /** The peer's latest SETTINGS_MAX_CONCURRENT_STREAMS (Integer.MAX_VALUE until it sent one). */
    public int peerMaxConcurrentStreams() {
        return peerMaxStreams;
    }

    /** Whether a GOAWAY was received. */
    public boolean goAwayReceived() {
        return goAway;
    }

    /** The current adaptive stream window (the initial one when adaptation is off). */
    public int currentStreamWindow() {
        return bdp == null ? cfg.initialStreamWindow() : bdp.streamWindow();
    }

    @Override
    public CompletableFuture<Void> validate() {
        return pings.validate();
    }

    @Override
    Exchange newExchange(HttpRequest request, ExchangeListener listener, boolean reused) {
        return new H2Exchange(this, request, listener, reused);
    }

    // ------------------------------------------------------------------ sending

    @Override
    void begin(Exchange exchange) {
        H2Exchange ex = (H2Exchange) exchange;
        if (ex.cancelReason != null) {
            deliverFailure(ex, ex.cancelReason); // cancelled before its first frame: nothing goes on the wire
            return;
        }
        if (goAway) {
            deliverFailure(ex, new UnprocessedRequestException(UnprocessedRequestException.Reason.GOAWAY,
                    "connection is draining after GOAWAY", null));
            return;
        }
        if (broken || !channel.isActive()) {
            deliverFailure(ex, new UnprocessedRequestException(UnprocessedRequestException.Reason.NOT_SENT,
                    "connection closed before the request was sent", lastError));
            return;
        }
        HttpRequest r = ex.request;
        Http2Headers h = new DefaultHttp2Headers(false)
                .method(r.method())
                .scheme(route.scheme())
                .authority(r.headers().contains("host") ? r.headers().get("host") : route.authority())
                .path(r.pathAndQuery());
        r.headers().forEach((n, v) -> {
            if (!CONNECTION_FIELDS.contains(n) && !(n.equals("te") && !v.equalsIgnoreCase("trailers"))) {
                h.add(n, v);
            }
        });
        if (acceptCompressed && !r.headers().contains("accept-encoding")) {
            h.add(ACCEPT_ENCODING, GZIP_DEFLATE); // the client inflates the answer
        }
        byte[] bytes = r.bodyBytes();
        if (bytes != null && !r.headers().contains("content-length")) {
            h.setInt("content-length", bytes.length);
        } else if (r.bodyPublisher() != null && r.contentLength() >= 0 && !r.headers().contains("content-length")) {
            h.setLong("content-length", r.contentLength());
        }
        var conn = handler.connection();
        int id = conn.local().incrementAndGetNextStreamId();
        if (id < 0) {
            broken = true; // stream ids exhausted: this connection can start no more streams
            notifyChanged();
            deliverFailure(ex, new UnprocessedRequestException(UnprocessedRequestException.Reason.STREAM_LIMIT,
                    "stream ids exhausted", null));
            return;
        }
        boolean endStream = !r.hasBody() || (bytes != null && bytes.length == 0);
        ChannelPromise headersWritten = ctx.newPromise();
        if (endStream) {
            lastFrameWritten(ex, headersWritten);
        }
        handler.encoder().writeHeaders(ctx, id, h, 0, endStream, headersWritten);
        Http2Stream stream = conn.stream(id);
        if (stream == null) {
            // Netty refused to create the stream (peer's limit reached, GOAWAY): never on the wire.
            handler.flush(ctx);
            deliverFailure(ex, new UnprocessedRequestException(UnprocessedRequestException.Reason.STREAM_LIMIT,
                    "stream not created: " + causeText(headersWritten.cause()), headersWritten.cause()));
            return;
        }
        ex.streamId = id;
        stream.setProperty(exchangeKey, ex);
        headersWritten.addListener(f -> {
            if (!f.isSuccess() && ex.failure == null) {
                ex.failure = new UnprocessedRequestException(UnprocessedRequestException.Reason.NOT_SENT,
                        "request headers not written: " + causeText(f.cause()), f.cause());
                resetAndFail(ex, ex.failure);
            }
        });
        if (bytes != null && bytes.length > 0) {
            // Queued behind flow control when the body exceeds the peer's window: requestWritten follows the socket.
            handler.encoder().writeData(ctx, id, Unpooled.wrappedBuffer(bytes), 0, true,
                    lastFrameWritten(ex, ctx.newPromise()));
        } else if (r.bodyPublisher() != null) {
            ex.bodyWriter = new RequestBodyWriter(loop, channel.alloc(), new RequestBodyWriter.Sink() {
                @Override
                public ChannelFuture write(ByteBuf chunk, boolean last) {
                    if (ex.done || ex.failure != null) {
                        chunk.release();
                        return channel.newFailedFuture(new IllegalStateException("stream over"));
                    }
                    ChannelPromise p = ctx.newPromise();
                    if (last) {
                        lastFrameWritten(ex, p);
                    }
                    handler.encoder().writeData(ctx, id, chunk, 0, last, p);
                    handler.flush(ctx);
                    return p;
                }

                @Override
                public void bodyFailed(Throwable cause) {
                    resetAndFail(ex, cause);
                }
            }, r.headers().contains("content-length") ? -1 : r.contentLength(), route.toString());
            r.bodyPublisher().subscribe(ex.bodyWriter);
        }
        flushAfterIteration();
    }

    /**
     * Marks the request fully written once the frame carrying its END_STREAM reached the socket. Until then a lost
     * connection proves the server did not get the whole request (the replay rule depends on it), so queueing the
     * frame is not enough: a body larger than the peer's window waits in the flow controller.
     */
    private static ChannelPromise lastFrameWritten(H2Exchange ex, ChannelPromise p) {
        p.addListener(f -> {
            if (f.isSuccess()) {
                ex.requestWritten = true;
                ex.listener.onRequestWritten();
            }
        });
        return p;
    }

    /** A flush is queued for the end of this event-loop iteration. Event-loop confined. */
    private boolean flushQueued;
    private final Runnable iterationFlush = () -> {
        flushQueued = false;
        handler.flush(ctx);
    };

    /**
     * Flushes once at the end of the event loop's current iteration instead of once per request: the
     * requests started in one iteration (each is a task on this loop) leave in one TLS record and one
     * write. A flush per request was about 20 % of the event loops' CPU samples at 256 in flight. Must
     * run on the loop. Falls back to an immediate flush on loops without tail tasks.
     */
    private void flushAfterIteration() {
        if (flushQueued) {
            return;
        }
        if (loop instanceof io.netty.channel.SingleThreadEventLoop st) {
            flushQueued = true;
            st.executeAfterEventLoopIteration(iterationFlush);
        } else {
            handler.flush(ctx);
        }
    }

    /** The connection as its PINGs see it; on the event loop unless {@link Http2Pings.Link} says otherwise. */
    private final class PingLink implements Http2Pings.Link {
        @Override
        public void sendPing(long payload) {
            handler.encoder().writePing(ctx, false, payload, ctx.newPromise());
            handler.flush(ctx);
        }

        @Override
        public boolean isBroken() {
            return Http2Connection.this.isBroken();
        }

        @Override
        public boolean brokenFlag() {
            return broken;
        }

        @Override
        public boolean channelActive() {
            return channel.isActive();
        }

        @Override
        public int activeStreams() {
            return handler.connection().numActiveStreams();
        }

        @Override
        public long lastReadNanos() {
            return lastReadNanos;
        }

        @Override
        public void capacityChanged() {
            notifyChanged();
        }

        /** On the scheduler thread: the flags are volatile and close() is thread-safe. */
        @Override
        public void closeUnanswered(String kind) {
            if (broken) {
                return;
            }
            LOG.debug("{}: {} PING not answered within {} ms; closing the connection", route, kind,
                    cfg.pingTimeout().toMillis());
            broken = true;
            notifyChanged();
            channel.close();
        }

        @Override
        public void applyWindows(BdpEstimator.Windows w) {
            Http2Connection.this.applyWindows(w);
        }

        @Override
        public Throwable lastError() {
            return lastError;
        }
    }

    /**
     * Applies new adaptive windows: the stream window by SETTINGS_INITIAL_WINDOW_SIZE (Netty applies it to
     * its own accounting when the peer ACKs it), the connection window by WINDOW_UPDATE (it only grows).
     */
    private void applyWindows(BdpEstimator.Windows w) {
        try {
            if (w.streamChanged()) {
                handler.encoder().writeSettings(ctx, new Http2Settings().initialWindowSize(w.stream()), ctx.newPromise());
            }
            if (w.connection() > connectionWindow) {
                Http2LocalFlowController fc = handler.decoder().flowController();
                fc.incrementWindowSize(handler.connection().connectionStream(), w.connection() - connectionWindow);
                connectionWindow = w.connection();
            }
            handler.flush(ctx);
            LOG.debug("{}: adaptive windows: stream {} bytes, connection {} bytes", route, w.stream(), connectionWindow);
        } catch (Http2Exception e) {
            LOG.debug("{}: could not grow the window: {}", route, e.toString());
        }
    }

    // ------------------------------------------------------------------ exchange ends

    /**
     * Whether the stream is above a received GOAWAY's last-stream-id: the peer never created it and ignores its
     * frames, so nothing more is sent for it (no RST_STREAM; its DATA is dropped when Netty closes it). Such a
     * stream may still be in Netty's map while it is being closed, so the id alone decides.
     */
    boolean ignoredAfterGoAway(int streamId) {
        return goAway && streamId > goAwayLastStreamId;
    }

    private H2Exchange exchange(int streamId) {
        Http2Stream s = handler.connection().stream(streamId);
        return s == null ? null : s.getProperty(exchangeKey);
    }

    /** For an exchange without a live stream: terminal failure at once. */
    private void deliverFailure(H2Exchange ex, Throwable cause) {
        if (ex.done) {
            return;
        }
        ex.done = true;
        if (ex.bodyWriter != null) {
            ex.bodyWriter.cancel();
        }
        ex.listener.onFailure(cause);
    }

    /**
     * Records the failure and resets the stream; the listener hears of it when the stream
     * has closed, so the freed slot is really free when the lease returns.
     */
    private void resetAndFail(H2Exchange ex, Throwable cause) {
        if (ex.done) {
            return;
        }
        if (ex.failure == null) {
            ex.failure = cause;
        }
        if (ex.bodyWriter != null) {
            ex.bodyWriter.cancel();
        }
        Http2Stream s = ex.streamId == 0 ? null : handler.connection().stream(ex.streamId);
        if (s == null) {
            deliverFailure(ex, ex.failure);
            return;
        }
        handler.resetStream(ctx, ex.streamId, Http2Error.CANCEL.code(), ctx.newPromise());
        handler.flush(ctx);
    }

    /** Called when the stream closed: completes or fails the exchange exactly once. */
    private void streamClosed(Http2Stream stream) {
        H2Exchange ex = stream.getProperty(exchangeKey);
        if (ex == null || ex.done) {
            return;
        }
        ex.done = true;
        if (ex.bodyWriter != null) {
            ex.bodyWriter.cancel();
        }
        if (ex.failure == null && ex.remoteEnded) {
            ex.listener.onComplete();
            return;
        }
        Throwable cause = ex.failure;
        if (cause == null) {
            if (stream.id() > goAwayLastStreamId && !ex.interimReceived) {
                cause = new UnprocessedRequestException(UnprocessedRequestException.Reason.GOAWAY,
                        "stream " + stream.id() + " above GOAWAY last-stream-id " + goAwayLastStreamId, null);
            } else if (peerProtocolError != null) {
                // The peer broke the protocol (invalid frame, bad HPACK, oversized frame): say so, rather than
                // reporting a retryable connection loss that would invite the caller to try the same peer again.
                cause = new ProtocolException(route.toString(), "HTTP/2 connection error from the peer ("
                        + peerProtocolError.error() + "): " + peerProtocolError.getMessage(), peerProtocolError);
            } else {
                cause = new ConnectionClosedException("HTTP/2 connection lost during the exchange (stream "
                        + stream.id() + (goAway ? ", after GOAWAY with last-stream-id " + goAwayLastStreamId : "")
                        + (ex.headersReceived ? ", response head received" : "")
                        + (ex.requestWritten ? ", request fully written" : ", request not fully written")
                        + (lastError != null ? ", cause: " + lastError : "") + ")",
                        !ex.headersReceived && !ex.dataSeen && !ex.interimReceived, ex.requestWritten, lastError);
            }
        }
        ex.listener.onFailure(cause);
    }

    private static String causeText(Throwable t) {
        return t == null ? "unknown" : t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    // ------------------------------------------------------------------ inbound

    /** Frame callbacks from Netty's decoder, on the event loop. */
    private final class Frames extends Http2FrameAdapter {

        @Override
        public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int streamDependency,
                                  short weight, boolean exclusive, int padding, boolean endOfStream) {
            onHeadersRead(c, streamId, headers, padding, endOfStream);
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int padding,
                                  boolean endOfStream) {
            H2Exchange ex = exchange(streamId);
            if (ex == null || ex.done || ex.failure != null) {
                return;
            }
            if (!ex.headersReceived) {
                int status;
                try {
                    status = Integer.parseInt(String.valueOf(headers.status()));
                } catch (NumberFormatException e) {
                    resetAndFail(ex, new ProtocolException(route.toString(), "HTTP/2 response without a valid :status", e));
                    return;
                }
                if (status >= 100 && status < 200 && !endOfStream) {
                    ex.interimReceived = true; // a response byte: the server has the request, so no replay now
                    return; // interim response; the final head follows
                }
                ex.headersReceived = true;
                ex.listener.onHeaders(status, HeaderConversions.fromHttp2(headers));
            }
            if (endOfStream) {
                remoteEnded(ex);
            }
        }

        @Override
        public int onDataRead(ChannelHandlerContext c, int streamId, ByteBuf data, int padding, boolean endOfStream) {
            int n = data.readableBytes();
            pings.onData(n + padding);
            H2Exchange ex = exchange(streamId);
            if (ex == null || ex.done || ex.failure != null || !ex.headersReceived) {
                return n + padding; // nobody will read it: credit the window at once
            }
            ex.dataSeen = true;
            if (n > 0) {
                ex.listener.onData(data.retain()); // bytes are credited when the caller is done with them
            }
            if (endOfStream) {
                remoteEnded(ex);
            }
            return n > 0 ? padding : n + padding;
        }

        /**
         * The response is complete (END_STREAM). When the server answered before it had our whole request (RFC 9113
         * §8.1: a 200 or 413 sent before reading a large POST), the rest of the body is dropped and the stream reset
         * with CANCEL, which closes it and completes the exchange with the response: a server that stops reading
         * would otherwise leave our END_STREAM queued behind a window that never opens, and the stream's slot held.
         */
        private void remoteEnded(H2Exchange ex) {
            ex.remoteEnded = true;
            if (!ex.requestWritten) {
                if (ex.bodyWriter != null) {
                    ex.bodyWriter.cancel();
                }
                handler.resetStream(ctx, ex.streamId, Http2Error.CANCEL.code(), ctx.newPromise());
                handler.flush(ctx);
            }
        }

        @Override
        public void onRstStreamRead(ChannelHandlerContext c, int streamId, long errorCode) {
            H2Exchange ex = exchange(streamId);
            if (ex == null || ex.done || ex.failure != null) {
                return;
            }
            if (ex.remoteEnded) {
                // The response was complete before the reset: RFC 9113 §8.1 lets a server that answered early stop
                // our request body with RST_STREAM(NO_ERROR), and clients must not discard the response. Whatever
                // the code, a reset after END_STREAM can only concern the request body, which is no longer needed.
                return;
            }
            // REFUSED_STREAM promises the request was not processed (RFC 9113 §8.7); a peer that already sent an
            // interim head for it contradicts that, and the safe reading is that it may have been.
            ex.failure = errorCode == Http2Error.REFUSED_STREAM.code() && !ex.interimReceived
                    ? new UnprocessedRequestException(UnprocessedRequestException.Reason.REFUSED_STREAM,
                    "stream " + streamId + " refused by the server (REFUSED_STREAM)", null)
                    : new StreamResetException(errorCode, "stream " + streamId + " reset by the server: "
                    + errorName(errorCode));
        }

        @Override
        public void onSettingsRead(ChannelHandlerContext c, Http2Settings settings) {
            Long max = settings.maxConcurrentStreams();
            if (max != null) {
                peerMaxStreams = (int) Math.min(Integer.MAX_VALUE, max);
            }
            if (!ready.isDone()) {
                ready.complete(Http2Connection.this);
            } else if (max != null) {
                notifyChanged();
            }
        }

        @Override
        public void onPingAckRead(ChannelHandlerContext c, long data) {
            pings.onAck(data);
        }
    }

    private static String errorName(long code) {
        Http2Error e = Http2Error.valueOf(code);
        return e == null ? "error " + code : e.name();
    }

    /** Connection events from Netty's stream bookkeeping, on the event loop. */
    private final class StreamEvents extends Http2ConnectionAdapter {

        @Override
        public void onStreamClosed(Http2Stream stream) {
            streamClosed(stream);
        }

        @Override
        public void onGoAwayReceived(int lastStreamId, long errorCode, ByteBuf debugData) {
            // Runs before Netty closes the streams above lastStreamId, so they are marked unprocessed first.
            goAway = true;
            goAwayLastStreamId = lastStreamId;
            List<H2Exchange> unprocessed = new ArrayList<>();
            try {
                handler.connection().forEachActiveStream(s -> {
                    H2Exchange ex = s.getProperty(exchangeKey);
                    if (s.id() > lastStreamId && ex != null && !ex.done && ex.failure == null && !ex.interimReceived) {
                        unprocessed.add(ex);
                    }
                    return true;
                });
            } catch (Http2Exception e) {
                LOG.debug("{}: stream iteration failed: {}", route, e.toString());
            }
            for (H2Exchange ex : unprocessed) {
                ex.failure = new UnprocessedRequestException(UnprocessedRequestException.Reason.GOAWAY,
                        "stream " + ex.streamId + " above GOAWAY last-stream-id " + lastStreamId + " ("
                                + errorName(errorCode) + ")", null);
            }
            LOG.debug("{}: GOAWAY (last stream {}, {}); draining, {} stream(s) to replay", route, lastStreamId,
                    errorName(errorCode), unprocessed.size());
            notifyChanged();
        }
    }

    // ------------------------------------------------------------------ handler events (Http2ClientHandler)

    /** The connection window to open right after the preface. */
    int connectionWindowSetting() {
        return cfg.connectionWindow();
    }

    /** Something was read: the keepalive counts idle time from here. Event loop. */
    void onRead() {
        lastReadNanos = System.nanoTime();
    }

    /** The channel closed (before Netty closes the streams). Event loop. */
    void onChannelInactive(int activeStreams) {
        LOG.debug("{}: HTTP/2 connection closed ({} active streams)", route, activeStreams);
        broken = true;
        ConnectionClosedException closed = new ConnectionClosedException("HTTP/2 connection closed", true, lastError);
        ready.completeExceptionally(closed);
        pings.closed(closed);
    }

    /** After Netty closed every stream of a closed channel: tell the pool. Event loop. */
    void afterChannelInactive() {
        notifyChanged();
    }

    /**
     * A stream error; answers whether Netty's own handling (an RST_STREAM) must be skipped. Event loop.
     *
     * <p>Outbound, for a stream already closed: our queued request DATA failed because the stream closed
     * under it, reset by the peer (after a complete response: RFC 9113 §8.1) or by us. The exchange already
     * has its outcome, and an RST_STREAM in answer to the peer's would break RFC 9113 §5.4.2 ("MUST NOT send
     * a RST_STREAM in response to a RST_STREAM"). Above a received GOAWAY's last-stream-id Netty would reset
     * a stream the peer never created: nothing is sent either.
     */
    boolean onStreamError(boolean outbound, Http2Exception.StreamException e) {
        H2Exchange ex = exchange(e.streamId());
        Http2Stream stream = handler.connection().stream(e.streamId());
        if (outbound && (stream == null || stream.state() == Http2Stream.State.CLOSED)) {
            LOG.debug("{}: request DATA for closed stream {} dropped: {}", route, e.streamId(), e.getMessage());
            return true;
        }
        if (ex != null && !ex.done && ex.failure == null && !ex.remoteEnded) {
            ex.failure = e instanceof Http2Exception.HeaderListSizeException
                    ? new LimitExceededException(route.toString(), LimitExceededException.Limit.HEADER_BLOCK,
                    limits.maxHeaderBlockBytes())
                    : new ProtocolException(route.toString(), "HTTP/2 stream error: " + e.getMessage(), e);
        }
        if (ignoredAfterGoAway(e.streamId())) {
            LOG.debug("{}: no RST_STREAM for stream {} above the GOAWAY's last-stream-id", route, e.streamId());
            return true;
        }
        return false;
    }

    /** An error that is not HTTP/2's (a TLS alert, an I/O error): the connection's cause; it closes. Event loop. */
    void onNonHttp2Error(Throwable cause) {
        LOG.debug("{}: connection error: {}", route, cause.toString());
        lastError = cause;
        broken = true;
    }

    /** An HTTP/2 connection error; {@code outbound} false means our decoder found the peer's frames invalid. */
    void onConnectionError(boolean outbound, Throwable cause, Http2Exception http2Ex) {
        lastError = cause;
        broken = true;
        if (!outbound && http2Ex != null && peerProtocolError == null) {
            peerProtocolError = http2Ex; // raised by our decoder: what the peer sent was invalid
        }
        LOG.debug("{}: HTTP/2 connection error: {}", route, cause.toString());
    }

    /** {@link H2Exchange#cancel}: on the loop, reset the stream (or fail at once if it never started). Any thread. */
    void cancel(H2Exchange ex, Throwable reason) {
        loop.execute(() -> resetAndFail(ex, reason));
    }

    /**
     * {@link H2Exchange#bytesConsumed}: credit the stream's window with what the caller is done with. Any thread,
     * also after the client closed: a caller may still read (and close the chunks of) a body that had fully arrived
     * when a graceful close ended; the loop refuses the task then, and the stream and its window are gone anyway.
     */
    void consumed(H2Exchange ex, int bytes) {
        try {
            loop.execute(() -> credit(ex, bytes));
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // the client closed: nothing to credit
        }
    }

    private void credit(H2Exchange ex, int bytes) {
        Http2Stream s = ex.streamId == 0 ? null : handler.connection().stream(ex.streamId);
        if (s == null) {
            return; // closed: Netty returned its unconsumed bytes to the connection window already
        }
        try {
            if (handler.decoder().flowController().consumeBytes(s, bytes)) {
                handler.flush(ctx);
            }
        } catch (Http2Exception e) {
            LOG.debug("{}: consumeBytes failed: {}", route, e.toString());
        }
    }

    EventLoop eventLoop() {
        return loop;
    }
}

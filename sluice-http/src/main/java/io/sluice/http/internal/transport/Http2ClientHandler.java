package io.sluice.http.internal.transport;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.AbstractHttp2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameListener;
import io.netty.handler.codec.http2.Http2Settings;

/**
 * Netty's HTTP/2 connection handler for one {@link Http2Connection}, with the hooks the connection
 * needs: the connection window opened right after the preface, the time of the last read, the
 * close, stream and connection errors (which decide what the connection's streams fail with), and
 * no RST_STREAM for a stream above a received GOAWAY's last-stream-id. The connection state lives in
 * the connection; this type only adapts Netty's callbacks to it. {@link Builder} builds it.
 *
 * <p><b>Thread-safety:</b> a Netty handler: every method runs on the channel's event loop.
 * <b>Ownership:</b> owned by the channel's pipeline; it holds its connection, never the reverse's resources.
 */
final class Http2ClientHandler extends Http2ConnectionHandler {
    private final Http2Connection owner;

    private Http2ClientHandler(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, Http2Settings initial,
                               Http2Connection owner) {
        super(decoder, encoder, initial);
        this.owner = owner;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        super.handlerAdded(ctx); // sends the preface and our SETTINGS
        int delta = owner.connectionWindowSetting() - 65_535;
        if (delta > 0) {
            decoder().flowController().incrementWindowSize(connection().connectionStream(), delta);
        }
        ctx.flush();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        owner.onRead();
        super.channelRead(ctx, msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        owner.onChannelInactive(connection().numActiveStreams());
        super.channelInactive(ctx); // closes every stream: each open exchange fails once
        owner.afterChannelInactive();
    }

    @Override
    protected void onStreamError(ChannelHandlerContext ctx, boolean outbound, Throwable cause,
                                 Http2Exception.StreamException e) {
        if (!owner.onStreamError(outbound, e)) {
            super.onStreamError(ctx, outbound, cause, e);
        }
    }

    /**
     * Errors that are not HTTP/2's (a TLS alert from the peer, an I/O error) would travel to the pipeline's
     * tail, be logged there as unhandled, and leave the connection's own cause unknown; they end the
     * connection here and become the cause its streams and its SETTINGS wait fail with.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) != null) {
            super.exceptionCaught(ctx, cause);
            return;
        }
        owner.onNonHttp2Error(cause);
        ctx.close();
    }

    @Override
    protected void onConnectionError(ChannelHandlerContext ctx, boolean outbound, Throwable cause,
                                     Http2Exception http2Ex) {
        owner.onConnectionError(outbound, cause, http2Ex);
        super.onConnectionError(ctx, outbound, cause, http2Ex);
    }

    /**
     * Sends no RST_STREAM for a stream above a received GOAWAY's last-stream-id.
     * The peer never created such a stream (RFC 9113 §6.8: it ignores them and we may treat them as never
     * opened), so to it the RST_STREAM names an idle stream; strict peers, Netty's server among them, answer
     * with a connection error that kills the streams below the last-stream-id still finishing. Netty itself
     * resets such streams when their queued request DATA fails after the GOAWAY closed them (a POST racing the
     * GOAWAY) through {@link #onStreamError}, which is guarded as well.
     */
    @Override
    public ChannelFuture resetStream(ChannelHandlerContext ctx, int streamId, long errorCode, ChannelPromise promise) {
        if (owner.ignoredAfterGoAway(streamId)) {
            return promise.setSuccess();
        }
        return super.resetStream(ctx, streamId, errorCode, promise);
    }

    /** Builds the handler with Netty's decoder, encoder and limits for a client. Not thread-safe; use once. */
    static final class Builder extends AbstractHttp2ConnectionHandlerBuilder<Http2ClientHandler, Builder> {
        private final Http2Connection owner;

        Builder(Http2Connection owner) {
            this.owner = owner;
            gracefulShutdownTimeoutMillis(0); // client side: connection(...) sets server(false)
        }

        @Override
        protected Builder frameListener(Http2FrameListener l) {
            return super.frameListener(l);
        }

        @Override
        protected Builder connection(io.netty.handler.codec.http2.Http2Connection c) {
            return super.connection(c);
        }

        @Override
        protected Builder initialSettings(Http2Settings s) {
            return super.initialSettings(s);
        }

        @Override
        protected Http2ClientHandler build() {
            return super.build();
        }

        @Override
        protected Http2ClientHandler build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
                                           Http2Settings initialSettings) {
            return new Http2ClientHandler(decoder, encoder, initialSettings, owner);
        }
    }
}

package io.sluice.websocket;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;

/**
 * The last handler of an open WebSocket channel: turns complete frames (reassembled by the
 * {@code WebSocketFrameAggregator} before it) into {@link WebSocketMessage}s, answers pings,
 * and reports pongs, Close frames, errors and the channel's end to its
 * {@link WebSocketConnection}.
 *
 * <p><b>Thread-safety:</b> confined to the channel's event loop. <b>Ownership:</b> every
 * inbound frame is released here after its content was copied (SimpleChannelInboundHandler's
 * auto-release); a pong reply takes its own reference to the ping's payload.
 */
final class FrameHandler extends SimpleChannelInboundHandler<WebSocketFrame> {

    private final WebSocketConnection connection;

    FrameHandler(WebSocketConnection connection) {
        this.connection = connection;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
        if (frame instanceof TextWebSocketFrame text) {
            connection.onMessage(WebSocketMessage.text(text.text()));
        } else if (frame instanceof BinaryWebSocketFrame binary) {
            connection.onMessage(WebSocketMessage.binary(ByteBufUtil.getBytes(binary.content())));
        } else if (frame instanceof PingWebSocketFrame) {
            ctx.writeAndFlush(new PongWebSocketFrame(frame.content().retainedDuplicate()));
        } else if (frame instanceof PongWebSocketFrame) {
            connection.onPong(frame.content());
        } else if (frame instanceof CloseWebSocketFrame close) {
            connection.onPeerClose(close.statusCode(), close.reasonText());
        } else {
            // a continuation frame without a start frame: the aggregator lets it through
            connection.onFailure(new CorruptedFrameException("unexpected " + frame.getClass().getSimpleName()));
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        connection.onFailure(cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        connection.onInactive();
        super.channelInactive(ctx);
    }
}

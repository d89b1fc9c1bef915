package io.sluice.websocket;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.websocketx.Utf8FrameValidator;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.sluice.http.ConnectFailedException;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The HTTP/1.1 upgrade of one new channel: sends the handshake request when the channel is
 * active (an {@code SslHandler} holds it until TLS is up), checks the 101 answer, then
 * rebuilds the pipeline for frames (UTF-8 check, reassembly bounded by the message limit,
 * {@link FrameHandler}) in the same call, so frames that arrive right behind the 101 (the
 * provider's {@code session.created}) are already decoded as frames.
 *
 * <p>Fails the connect future once, with a typed error: a refused upgrade (401, 403, ...),
 * a bad handshake answer, a TLS failure, or the channel closing first.
 *
 * <p><b>Thread-safety:</b> confined to the channel's event loop. <b>Ownership:</b> the
 * aggregated response is released after {@link #channelRead0}; the channel belongs to the
 * connector until the connection is installed, then to the {@link WebSocketConnection}.
 */
final class UpgradeHandler extends SimpleChannelInboundHandler<FullHttpResponse> {

    private final WebSocketClientHandshaker handshaker;
    private final WebSocketSettings settings;
    private final CompletableFuture<WebSocketConnection> result;
    private final Function<ChannelHandlerContext, WebSocketConnection> newConnection;

    UpgradeHandler(WebSocketClientHandshaker handshaker, WebSocketSettings settings,
                   CompletableFuture<WebSocketConnection> result,
                   Function<ChannelHandlerContext, WebSocketConnection> newConnection) {
        this.handshaker = handshaker;
        this.settings = settings;
        this.result = result;
        this.newConnection = newConnection;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        handshaker.handshake(ctx.channel()).addListener(f -> {
            if (!f.isSuccess()) {
                fail(ctx, f.cause());
            }
        });
        super.channelActive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
        try {
            handshaker.finishHandshake(ctx.channel(), response);
        } catch (RuntimeException e) { // WebSocketClientHandshakeException: status, Upgrade, Accept or subprotocol
            fail(ctx, e);
            return;
        }
        WebSocketConnection connection = newConnection.apply(ctx);
        ChannelPipeline p = ctx.pipeline();
        p.addBefore(ctx.name(), "ws-utf8", new Utf8FrameValidator());
        p.addBefore(ctx.name(), "ws-aggregator", new WebSocketFrameAggregator(settings.maxMessageSize()));
        p.replace(this, "ws-frames", new FrameHandler(connection));
        if (!result.complete(connection)) {
            connection.close(); // the connect timed out meanwhile: nobody will use it
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent e && !e.isSuccess()) {
            fail(ctx, e.cause());
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        result.completeExceptionally(new ConnectFailedException(settings.route(),
                "the connection closed before the WebSocket handshake completed", null));
        super.channelInactive(ctx);
    }

    private void fail(ChannelHandlerContext ctx, Throwable cause) {
        result.completeExceptionally(WebSocketErrors.connectFailure(settings.route(), cause, settings.handshakeTimeout()));
        ctx.close();
    }
}

package io.sluice.testkit;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.Http2PingFrame;

/**
 * Answers HTTP/2 PINGs with an ACK unless the server is set to ignore them
 * ({@link MockOptions#ignorePings()}, {@link MockProvider#ignorePings(boolean)}). The frame codec is
 * built with automatic PING acknowledgement off so that this choice can be made per PING at
 * runtime. Sharable and stateless; reads the flag from the thread-safe server context.
 */
@ChannelHandler.Sharable
final class PingResponder extends ChannelInboundHandlerAdapter {
    private final MockServerContext server;

    PingResponder(MockServerContext server) {
        this.server = server;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Http2PingFrame ping)) {
            ctx.fireChannelRead(msg);
            return;
        }
        // PING frames hold no buffer, so there is nothing to release when one is dropped.
        if (!ping.ack() && !server.ignorePings()) {
            server.pingsAnswered.incrementAndGet();
            ctx.writeAndFlush(new DefaultHttp2PingFrame(ping.content(), true));
        }
    }
}

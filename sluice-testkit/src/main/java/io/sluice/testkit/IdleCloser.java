package io.sluice.testkit;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;

/**
 * Closes a connection when the {@link io.netty.handler.timeout.IdleStateHandler} before it reports
 * no traffic for the idle timeout and no stream is open (a long SSE stream or a blackholed request
 * keeps it alive). HTTP/2 connections get GOAWAY first. Sharable and stateless.
 */
@ChannelHandler.Sharable
final class IdleCloser extends ChannelInboundHandlerAdapter {
    static final IdleCloser INSTANCE = new IdleCloser();

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            ConnectionState state = ConnectionState.of(ctx.channel());
            if (state.openStreams() == 0) {
                if (state.isHttp2()) {
                    state.goAway();
                } else {
                    ctx.channel().close();
                }
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }
}

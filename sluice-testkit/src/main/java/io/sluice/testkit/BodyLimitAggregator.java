package io.sluice.testkit;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.Http2StreamChannel;

/**
 * Aggregates request bodies up to the configured limit and answers larger ones with 413 and the
 * provider's error JSON (Netty's default answer has an empty body). One instance per connection or
 * stream, confined to its event loop.
 */
final class BodyLimitAggregator extends HttpObjectAggregator {
    private final MockServerContext server;

    BodyLimitAggregator(MockServerContext server) {
        super(server.options.maxRequestBodyBytes());
        this.server = server;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        if (!(oversized instanceof HttpRequest req)) {
            ctx.close();
            return;
        }
        String path = Routes.pathOf(req.uri());
        server.stats.request(path);
        boolean h2 = ctx.channel() instanceof Http2StreamChannel;
        // keepAlive=false: on HTTP/1.1 the unread rest of the body makes the connection unusable.
        Exchange ex = new Exchange(ctx, server, ConnectionState.of(ctx.channel()), h2, false, req.method(), path,
                server.behavior(), () -> { });
        ex.respondError(413, "Request body too large: the limit is " + server.options.maxRequestBodyBytes()
                + " bytes.");
    }
}

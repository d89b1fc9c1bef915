package io.sluice.testkit;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;

/**
 * Installs the HTTP/1.1 (with WebSocket) or HTTP/2 handlers on a connection once its protocol is
 * known (ALPN or the h2c preface sniff). Stateless apart from the shared, thread-safe handler and
 * server context it was built with.
 */
final class ProtocolPipelines {
    private static final int MAX_INITIAL_LINE = 8192;
    private static final int MAX_HEADER_SIZE = 65_536;
    private static final int MAX_CHUNK = 65_536;
    private static final int MAX_WS_FRAME = 1 << 20;

    private final MockServerContext server;
    private final MockHttpHandler handler;
    private final PingResponder pings;

    ProtocolPipelines(MockServerContext server) {
        this.server = server;
        this.handler = new MockHttpHandler(server);
        this.pings = new PingResponder(server);
    }

    void http1(ChannelPipeline p) {
        p.addLast("slow-head", new SlowHeadWriter());
        p.addLast("http", new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADER_SIZE, MAX_CHUNK));
        p.addLast("aggregate", new BodyLimitAggregator(server));
        p.addLast("mock", handler);
        p.addLast("ws", new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig.newBuilder()
                .websocketPath(Routes.REALTIME)
                .checkStartsWith(true)
                .maxFramePayloadLength(MAX_WS_FRAME)
                .handleCloseFrames(true)
                .dropPongFrames(true)
                .build()));
        p.addLast("realtime", new RealtimeHandler(server));
    }

    void http2(Channel ch) {
        ConnectionState.of(ch).markHttp2();
        Http2Settings settings = new Http2Settings()
                .maxConcurrentStreams(server.maxConcurrentStreams.get())
                .initialWindowSize(server.options.initialWindowSize())
                .maxFrameSize(server.options.maxFrameSize())
                .maxHeaderListSize(MAX_HEADER_SIZE);
        Http2FrameCodec codec = Http2FrameCodecBuilder.forServer()
                .initialSettings(settings)
                // Bounds the graceful close (GOAWAY, then wait for open streams); set explicitly because
                // the codec's own timer otherwise closed the connection milliseconds after GOAWAY.
                .gracefulShutdownTimeoutMillis(server.options.goAwayDrainTimeout().toMillis())
                // PingResponder decides per PING, so ignorePings can change at runtime.
                .autoAckPingFrame(false)
                .build();
        ch.pipeline().addLast("h2-goaway-filter", new GoAwayFrameFilter(codec.connection()));
        ch.pipeline().addLast("h2", codec);
        ch.pipeline().addLast("h2-mux", new Http2MultiplexHandler(new StreamInitializer()));
        ch.pipeline().addLast("h2-ping", pings);
    }

    /** Per HTTP/2 stream: HTTP object conversion, aggregation, the shared handler and stream counting. */
    @io.netty.channel.ChannelHandler.Sharable
    private final class StreamInitializer extends ChannelInitializer<Http2StreamChannel> {
        @Override
        protected void initChannel(Http2StreamChannel ch) {
            ConnectionState conn = ConnectionState.of(ch);
            conn.streamOpened();
            ch.closeFuture().addListener(f -> conn.streamClosed());
            ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true), new BodyLimitAggregator(server), handler);
        }
    }
}

package io.sluice.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A minimal h2c (prior knowledge) server for GOAWAY tests: it answers every stream with 200
 * "ok" after a delay, and after N streams on a connection sends GOAWAY(NO_ERROR) without
 * closing, so streams below the last-stream-id finish and later ones go unanswered, as
 * RFC 9113 §6.8 describes a graceful shutdown. (The mock's GOAWAY closes the connection
 * within milliseconds even with streams open; see the report.)
 */
final class GoAwayServer implements AutoCloseable {

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger goAways = new AtomicInteger();
    final AtomicInteger answered = new AtomicInteger();

    GoAwayServer(int goAwayAfterStreams, long delayMs) {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.incrementAndGet();
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build());
                        ch.pipeline().addLast(new Answerer(goAwayAfterStreams, delayMs));
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Answerer extends ChannelInboundHandlerAdapter {
        private final int goAwayAfter;
        private final long delayMs;
        private int streams;
        private boolean goneAway;

        Answerer(int goAwayAfter, long delayMs) {
            this.goAwayAfter = goAwayAfter;
            this.delayMs = delayMs;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2HeadersFrame h && !goneAway) {
                    streams++;
                    if (streams == goAwayAfter) {
                        goneAway = true;
                        goAways.incrementAndGet();
                        ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR)); // last id = newest stream
                    }
                }
                boolean end = msg instanceof Http2HeadersFrame h ? h.isEndStream()
                        : msg instanceof Http2DataFrame d && d.isEndStream();
                if (end) {
                    var stream = ((Http2StreamFrame) msg).stream();
                    ctx.executor().schedule(() -> {
                        // Counted before the answer leaves: the client may see it (and the test read the
                        // counter) before this thread would get past the flush.
                        answered.incrementAndGet();
                        ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")).stream(stream));
                        ctx.writeAndFlush(new DefaultHttp2DataFrame(
                                Unpooled.copiedBuffer("ok", StandardCharsets.US_ASCII), true).stream(stream));
                    }, delayMs, TimeUnit.MILLISECONDS);
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }
    }
}

package io.sluice.http.faults;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
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
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An h2c (prior knowledge) server on Netty's frame codec whose answer to each request is
 * scripted by request number (1-based, across connections): refuse the stream, answer with a
 * status and headers, or send GOAWAY. Request bodies are read to their end before answering.
 */
final class ScriptedH2Server implements AutoCloseable {

    /** What to do with request number {@code n}. */
    interface Script {
        Action on(int n);
    }

    /** One scripted reaction. */
    record Action(Kind kind, int status, String[] headers, long delayMs) {
        enum Kind { REFUSE, ANSWER, GOAWAY_THEN_ANSWER, EARLY_HINTS_THEN_REFUSE }

        static Action refuse() {
            return new Action(Kind.REFUSE, 0, new String[0], 0);
        }

        /** A 103 Early Hints head, then RST_STREAM(REFUSED_STREAM) (a non-conformant peer). */
        static Action earlyHintsThenRefuse() {
            return new Action(Kind.EARLY_HINTS_THEN_REFUSE, 0, new String[0], 0);
        }

        static Action answer(int status, String... headers) {
            return new Action(Kind.ANSWER, status, headers, 0);
        }

        /** GOAWAY (last-stream-id = this stream) on arrival, then answer after {@code delayMs}. */
        static Action goAwayThenAnswer(long delayMs) {
            return new Action(Kind.GOAWAY_THEN_ANSWER, 200, new String[0], delayMs);
        }
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    final AtomicInteger requests = new AtomicInteger();
    final AtomicInteger answered = new AtomicInteger();
    final AtomicInteger connections = new AtomicInteger();

    ScriptedH2Server(Script script) {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.incrementAndGet();
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build());
                        ch.pipeline().addLast(new Handler(script));
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

    private final class Handler extends ChannelInboundHandlerAdapter {
        private final Script script;
        private final java.util.Map<Http2FrameStream, Action> pending = new java.util.HashMap<>();
        private boolean goneAway;

        Handler(Script script) {
            this.script = script;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2HeadersFrame h) {
                    Action a = script.on(requests.incrementAndGet());
                    if (a.kind() == Action.Kind.REFUSE) {
                        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.REFUSED_STREAM).stream(h.stream()));
                        return;
                    }
                    if (a.kind() == Action.Kind.EARLY_HINTS_THEN_REFUSE) {
                        ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("103")
                                .add("link", "</style.css>; rel=preload")).stream(h.stream()));
                        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.REFUSED_STREAM).stream(h.stream()));
                        return;
                    }
                    if (a.kind() == Action.Kind.GOAWAY_THEN_ANSWER && !goneAway) {
                        goneAway = true; // one GOAWAY per connection, as a draining server sends
                        ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR)); // last id = newest stream
                    }
                    pending.put(h.stream(), a);
                }
                if (msg instanceof Http2DataFrame d && d.initialFlowControlledBytes() > 0) {
                    // the frame codec leaves flow control to the handler: give the bytes back or the client stalls
                    ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(d.initialFlowControlledBytes()).stream(d.stream()));
                }
                boolean end = msg instanceof Http2HeadersFrame h ? h.isEndStream()
                        : msg instanceof Http2DataFrame d && d.isEndStream();
                if (end) {
                    Http2FrameStream stream = ((Http2StreamFrame) msg).stream();
                    Action a = pending.remove(stream);
                    if (a != null) {
                        ctx.executor().schedule(() -> answer(ctx, stream, a), a.delayMs(), TimeUnit.MILLISECONDS);
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void answer(ChannelHandlerContext ctx, Http2FrameStream stream, Action a) {
            Http2Headers h = new DefaultHttp2Headers().status(String.valueOf(a.status()));
            for (int i = 0; i + 1 < a.headers().length; i += 2) {
                h.add(a.headers()[i], a.headers()[i + 1]);
            }
            ByteBuf body = Unpooled.copiedBuffer(a.status() == 200 ? "ok" : "{\"error\":\"scripted\"}",
                    StandardCharsets.US_ASCII);
            ctx.write(new DefaultHttp2HeadersFrame(h).stream(stream));
            ctx.writeAndFlush(new DefaultHttp2DataFrame(body, true).stream(stream));
            answered.incrementAndGet();
        }
    }
}

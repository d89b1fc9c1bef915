package io.sluice.http.adversary;

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
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.zip.GZIPOutputStream;

/**
 * An h2c server on loopback built on Netty's own HTTP/2 codec, so that its DATA waits for the
 * client's WINDOW_UPDATE as a real server's does (the scripted {@code AdversaryH2Server} writes
 * frames as told, windows or not). Answers each request by path: 200 with the body and, when
 * the answer says so, {@code content-encoding: gzip}.
 */
final class WindowRespectingH2Server implements AutoCloseable {

    /** What a path is answered with. */
    record Answer(byte[] body, boolean gzip) {
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;

    WindowRespectingH2Server(Function<String, Answer> answers) {
        this.server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(), new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext c, Object msg) {
                                if (msg instanceof Http2HeadersFrame h && h.isEndStream()) {
                                    Answer a = answers.apply(h.headers().path().toString());
                                    DefaultHttp2Headers out = new DefaultHttp2Headers();
                                    out.status("200");
                                    if (a.gzip()) {
                                        out.set("content-encoding", "gzip");
                                    }
                                    c.write(new DefaultHttp2HeadersFrame(out).stream(h.stream()));
                                    c.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(a.body()), true)
                                            .stream(h.stream()));
                                }
                                ReferenceCountUtil.release(msg);
                            }
                        });
                    }
                }).bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort());
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    static byte[] gzip(byte[] in) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(in);
        }
        return out.toByteArray();
    }
}

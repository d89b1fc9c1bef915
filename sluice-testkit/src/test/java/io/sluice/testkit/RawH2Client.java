package io.sluice.testkit;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.DefaultHttp2FrameReader;
import io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A frame-level HTTP/2 client over h2c prior knowledge, for tests that must send what a polite
 * client would not (frames on streams above a GOAWAY's last-stream-id, PINGs that expect no answer)
 * and observe every frame the server sends, in order, as text events:
 * {@code HEADERS 1 200 end=false}, {@code DATA 1 123 end=true}, {@code RST 3 7},
 * {@code GOAWAY 1 0}, {@code PING_ACK 42}, {@code PING 7}, {@code SETTINGS {...}}, {@code SETTINGS_ACK},
 * {@code WINDOW_UPDATE 0 1000}, {@code CLOSED}.
 *
 * <p>Not thread-safe for writes from several test threads at once; events are read from a
 * thread-safe queue. Owns its event loop; {@link #close()} releases it.
 */
final class RawH2Client implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final DefaultHttp2FrameWriter writer = new DefaultHttp2FrameWriter();
    private final BlockingQueue<String> events = new LinkedBlockingQueue<>();
    private final Channel channel;
    private volatile ChannelHandlerContext decoderContext;

    RawH2Client(int port) {
        channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new FrameDecoder());
                    }
                })
                .connect("127.0.0.1", port).syncUninterruptibly().channel();
    }

    /** A POST with a JSON body on {@code streamId}; {@code knobs} are header name/value pairs. */
    void post(int streamId, String path, String json, String... knobs) {
        Http2Headers h = new DefaultHttp2Headers().method("POST").path(path).scheme("http")
                .authority("127.0.0.1").set("content-type", "application/json");
        for (int i = 0; i < knobs.length; i += 2) {
            h.set(knobs[i], knobs[i + 1]);
        }
        onLoop(() -> {
            ChannelHandlerContext ctx = ctx();
            writer.writeHeaders(ctx, streamId, h, 0, false, channel.newPromise());
            writer.writeData(ctx, streamId, ByteBufUtil.writeUtf8(channel.alloc(), json), 0, true, channel.newPromise());
            channel.flush();
        });
    }

    /** HEADERS without END_STREAM, so the stream stays open for a later {@link #data}. */
    void headersOnly(int streamId, String path) {
        Http2Headers h = new DefaultHttp2Headers().method("POST").path(path).scheme("http").authority("127.0.0.1");
        onLoop(() -> {
            writer.writeHeaders(ctx(), streamId, h, 0, false, channel.newPromise());
            channel.flush();
        });
    }

    void data(int streamId, String text, boolean endStream) {
        onLoop(() -> {
            writer.writeData(ctx(), streamId,
                    ByteBufUtil.writeUtf8(channel.alloc(), text), 0, endStream, channel.newPromise());
            channel.flush();
        });
    }

    void rst(int streamId, Http2Error error) {
        onLoop(() -> {
            writer.writeRstStream(ctx(), streamId, error.code(), channel.newPromise());
            channel.flush();
        });
    }

    void ping(long payload) {
        onLoop(() -> {
            writer.writePing(ctx(), false, payload, channel.newPromise());
            channel.flush();
        });
    }

    /** The next event matching {@code wanted}, skipping others; null after {@code timeoutMs}. */
    String await(Predicate<String> wanted, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true) {
            long left = deadline - System.nanoTime();
            String e = left <= 0 ? null : events.poll(left, TimeUnit.NANOSECONDS);
            if (e == null || wanted.test(e)) {
                return e;
            }
        }
    }

    String await(String prefix, long timeoutMs) throws InterruptedException {
        return await(e -> e.startsWith(prefix), timeoutMs);
    }

    /** The decoder's context: writes from it go straight to the socket, and it outlives a close. */
    private ChannelHandlerContext ctx() {
        return decoderContext;
    }

    boolean isOpen() {
        return channel.isActive();
    }

    private void onLoop(Runnable r) {
        channel.eventLoop().submit(r).syncUninterruptibly();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Parses server frames and records them; acknowledges SETTINGS as the protocol requires. */
    private final class FrameDecoder extends ByteToMessageDecoder {
        private final DefaultHttp2FrameReader reader = new DefaultHttp2FrameReader();

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            decoderContext = ctx;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
            reader.readFrame(ctx, in, new Http2FrameAdapter() {
                @Override
                public void onSettingsRead(ChannelHandlerContext c, Http2Settings settings) {
                    writer.writeSettingsAck(c, c.newPromise());
                    c.flush();
                    events.add("SETTINGS " + settings);
                }

                @Override
                public void onSettingsAckRead(ChannelHandlerContext c) {
                    events.add("SETTINGS_ACK");
                }

                @Override
                public void onWindowUpdateRead(ChannelHandlerContext c, int streamId, int increment) {
                    events.add("WINDOW_UPDATE " + streamId + " " + increment);
                }

                @Override
                public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int padding,
                        boolean endStream) {
                    events.add("HEADERS " + streamId + " " + headers.status() + " end=" + endStream);
                }

                @Override
                public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers,
                        int streamDependency, short weight, boolean exclusive, int padding, boolean endStream) {
                    onHeadersRead(c, streamId, headers, padding, endStream);
                }

                @Override
                public int onDataRead(ChannelHandlerContext c, int streamId, ByteBuf data, int padding,
                        boolean endOfStream) {
                    events.add("DATA " + streamId + " " + data.toString(StandardCharsets.UTF_8).length()
                            + " end=" + endOfStream);
                    return data.readableBytes() + padding;
                }

                @Override
                public void onRstStreamRead(ChannelHandlerContext c, int streamId, long errorCode) {
                    events.add("RST " + streamId + " " + errorCode);
                }

                @Override
                public void onGoAwayRead(ChannelHandlerContext c, int lastStreamId, long errorCode, ByteBuf debug) {
                    events.add("GOAWAY " + lastStreamId + " " + errorCode);
                }

                @Override
                public void onPingRead(ChannelHandlerContext c, long data) {
                    events.add("PING " + data);
                }

                @Override
                public void onPingAckRead(ChannelHandlerContext c, long data) {
                    events.add("PING_ACK " + data);
                }
            });
        }

        /**
         * The preface goes out before anything is read: a server may send its SETTINGS at once,
         * and the ACK to them must not precede the preface.
         */
        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            ctx.write(Http2CodecUtil.connectionPrefaceBuf());
            writer.writeSettings(ctx, new Http2Settings(), ctx.newPromise());
            ctx.flush();
            super.channelActive(ctx);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            events.add("CLOSED");
            super.channelInactive(ctx);
        }
    }
}

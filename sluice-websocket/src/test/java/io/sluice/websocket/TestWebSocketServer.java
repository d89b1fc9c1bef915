package io.sluice.websocket;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small scriptable WebSocket server for what the testkit's mock does not do: subprotocol
 * negotiation, recording handshake headers and Close codes, fragmented messages, delayed
 * (unsolicited) messages, binary echo, and swallowing pings. Text commands:
 * {@code fragments:N:SIZE}, {@code later:MS:TEXT}, {@code close}; anything else is echoed.
 */
final class TestWebSocketServer implements AutoCloseable {

    final List<Map<String, String>> handshakeHeaders = new CopyOnWriteArrayList<>();
    final List<Integer> closeCodesReceived = new CopyOnWriteArrayList<>();
    final AtomicInteger sessions = new AtomicInteger();
    final AtomicInteger pingsSeen = new AtomicInteger();
    volatile boolean answerPings = true;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final String subprotocols;
    private final Channel server;

    TestWebSocketServer(String subprotocols) {
        this.subprotocols = subprotocols;
        this.server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        channels.add(ch);
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536), new Upgrade());
                    }
                }).bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    URI uri() {
        return URI.create("ws://127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort() + "/ws");
    }

    @Override
    public void close() {
        channels.close().awaitUninterruptibly();
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Upgrade extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            Map<String, String> headers = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            req.headers().forEach(e -> headers.put(e.getKey(), e.getValue()));
            handshakeHeaders.add(headers);
            WebSocketServerHandshaker hs = new WebSocketServerHandshakerFactory(uri().toString(), subprotocols, false,
                    1 << 24).newHandshaker(req);
            hs.handshake(ctx.channel(), req).addListener(f -> {
                if (f.isSuccess()) {
                    sessions.incrementAndGet();
                }
            });
            ctx.pipeline().replace(this, "frames", new Frames());
        }
    }

    private final class Frames extends SimpleChannelInboundHandler<WebSocketFrame> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
            if (frame instanceof PingWebSocketFrame) {
                pingsSeen.incrementAndGet();
                if (answerPings) {
                    ctx.writeAndFlush(new PongWebSocketFrame(frame.content().retainedDuplicate()));
                }
            } else if (frame instanceof CloseWebSocketFrame c) {
                closeCodesReceived.add(c.statusCode());
                ctx.writeAndFlush(new CloseWebSocketFrame(c.statusCode(), null)).addListener(f -> ctx.close());
            } else if (frame instanceof BinaryWebSocketFrame) {
                ctx.writeAndFlush(new BinaryWebSocketFrame(frame.content().retainedDuplicate()));
            } else if (frame instanceof TextWebSocketFrame t) {
                command(ctx, t.text());
            }
        }

        private void command(ChannelHandlerContext ctx, String text) {
            String[] parts = text.split(":", 3);
            switch (parts[0]) {
                case "fragments" -> {
                    int n = Integer.parseInt(parts[1]);
                    String chunk = "a".repeat(Integer.parseInt(parts[2]));
                    ctx.write(new TextWebSocketFrame(n == 1, 0, chunk));
                    for (int i = 1; i < n; i++) {
                        ctx.write(new ContinuationWebSocketFrame(i == n - 1, 0, chunk));
                    }
                    ctx.flush();
                }
                case "later" -> ctx.executor().schedule(() -> ctx.writeAndFlush(new TextWebSocketFrame(parts[2])),
                        Long.parseLong(parts[1]), TimeUnit.MILLISECONDS);
                case "close" -> ctx.writeAndFlush(new CloseWebSocketFrame(1001, "going away"));
                default -> ctx.writeAndFlush(new TextWebSocketFrame(Unpooled.copiedBuffer(text,
                        java.nio.charset.StandardCharsets.UTF_8)));
            }
        }
    }
}

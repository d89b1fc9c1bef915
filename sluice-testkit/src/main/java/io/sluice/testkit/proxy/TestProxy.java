package io.sluice.testkit.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.socksx.v5.DefaultSocks5CommandResponse;
import io.netty.handler.codec.socksx.v5.DefaultSocks5InitialResponse;
import io.netty.handler.codec.socksx.v5.DefaultSocks5PasswordAuthResponse;
import io.netty.handler.codec.socksx.v5.Socks5AddressType;
import io.netty.handler.codec.socksx.v5.Socks5AuthMethod;
import io.netty.handler.codec.socksx.v5.Socks5CommandRequest;
import io.netty.handler.codec.socksx.v5.Socks5CommandRequestDecoder;
import io.netty.handler.codec.socksx.v5.Socks5CommandStatus;
import io.netty.handler.codec.socksx.v5.Socks5CommandType;
import io.netty.handler.codec.socksx.v5.Socks5InitialRequest;
import io.netty.handler.codec.socksx.v5.Socks5InitialRequestDecoder;
import io.netty.handler.codec.socksx.v5.Socks5PasswordAuthRequest;
import io.netty.handler.codec.socksx.v5.Socks5PasswordAuthRequestDecoder;
import io.netty.handler.codec.socksx.v5.Socks5PasswordAuthStatus;
import io.netty.handler.codec.socksx.v5.Socks5ServerEncoder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A forward proxy on loopback for tests: HTTP {@code CONNECT} (RFC 9110 §9.3.6) or SOCKS5 (RFC
 * 1928, with RFC 1929 user/password), optionally requiring credentials, relaying bytes both ways
 * once the tunnel is up. It counts tunnels, refusals and the targets asked for, so a test can
 * check that a client reused a tunnelled connection.
 *
 * <p><b>Thread-safety:</b> thread-safe; the counters are atomic. <b>Ownership:</b> owns its
 * event loop and every channel it accepted or opened; {@link #close()} releases them.
 */
public final class TestProxy implements AutoCloseable {

    /** The proxy protocol spoken. */
    public enum Kind { HTTP_CONNECT, SOCKS5 }

    private final Kind kind;
    private final String username;
    private final String password;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final Channel server;
    private final AtomicInteger tunnels = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();
    private final List<String> targets = new CopyOnWriteArrayList<>();

    private TestProxy(Kind kind, String username, String password) {
        this.kind = kind;
        this.username = username;
        this.password = password;
        this.server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        channels.add(ch);
                        if (kind == Kind.HTTP_CONNECT) {
                            ch.pipeline().addLast("codec", new HttpServerCodec());
                            ch.pipeline().addLast("aggregator", new HttpObjectAggregator(8192));
                            ch.pipeline().addLast("connect", new ConnectHandler());
                        } else {
                            ch.pipeline().addLast("encoder", Socks5ServerEncoder.DEFAULT);
                            ch.pipeline().addLast("decoder", new Socks5InitialRequestDecoder());
                            ch.pipeline().addLast("socks", new SocksHandler());
                        }
                    }
                }).bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    /** An HTTP CONNECT proxy without authentication. */
    public static TestProxy httpConnect() {
        return new TestProxy(Kind.HTTP_CONNECT, null, null);
    }

    /** An HTTP CONNECT proxy requiring Basic {@code Proxy-Authorization}; others get 407. */
    public static TestProxy httpConnect(String username, String password) {
        return new TestProxy(Kind.HTTP_CONNECT, username, password);
    }

    /** A SOCKS5 proxy without authentication. */
    public static TestProxy socks5() {
        return new TestProxy(Kind.SOCKS5, null, null);
    }

    /** A SOCKS5 proxy requiring user/password authentication. */
    public static TestProxy socks5(String username, String password) {
        return new TestProxy(Kind.SOCKS5, username, password);
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Tunnels established so far. */
    public int tunnels() {
        return tunnels.get();
    }

    /** Requests refused for missing or wrong credentials. */
    public int refused() {
        return refused.get();
    }

    /** The {@code host:port} of every tunnel asked for, in order. */
    public List<String> targets() {
        return List.copyOf(targets);
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        channels.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Opens the tunnel to {@code host:port}; {@code onConnected} runs with the outbound channel, or null on failure. */
    private void dialTarget(Channel inbound, String host, int port, java.util.function.Consumer<Channel> onConnected) {
        targets.add(host + ":" + port);
        new Bootstrap().group(inbound.eventLoop()).channel(NioSocketChannel.class)
                .option(ChannelOption.AUTO_READ, false)
                .handler(new Relay(inbound))
                .connect(host, port).addListener((io.netty.channel.ChannelFuture f) -> {
                    if (f.isSuccess()) {
                        channels.add(f.channel());
                        onConnected.accept(f.channel());
                    } else {
                        onConnected.accept(null);
                    }
                });
    }

    /** Joins the two channels: each reads what the other writes, until either closes. */
    private void join(Channel inbound, Channel outbound) {
        tunnels.incrementAndGet();
        inbound.pipeline().addLast("relay", new Relay(outbound));
        outbound.config().setAutoRead(true);
        inbound.config().setAutoRead(true);
    }

    private static final class Relay extends ChannelInboundHandlerAdapter {
        private final Channel peer;

        Relay(Channel peer) {
            this.peer = peer;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (peer.isActive()) {
                peer.writeAndFlush(msg);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            peer.close();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private final class ConnectHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            if (!HttpMethod.CONNECT.equals(req.method())) {
                reply(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, true);
                return;
            }
            if (username != null) {
                String expected = "Basic " + Base64.getEncoder().encodeToString(
                        (username + ":" + password).getBytes(StandardCharsets.UTF_8));
                if (!expected.equals(req.headers().get(HttpHeaderNames.PROXY_AUTHORIZATION))) {
                    refused.incrementAndGet();
                    DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                            HttpResponseStatus.PROXY_AUTHENTICATION_REQUIRED);
                    r.headers().set(HttpHeaderNames.PROXY_AUTHENTICATE, "Basic realm=\"test\"")
                            .setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
                    ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
                    return;
                }
            }
            URI target = URI.create("tcp://" + req.uri());
            Channel inbound = ctx.channel();
            inbound.config().setAutoRead(false);
            dialTarget(inbound, target.getHost(), target.getPort(), outbound -> {
                if (outbound == null) {
                    reply(ctx, HttpResponseStatus.BAD_GATEWAY, true);
                    return;
                }
                DefaultFullHttpResponse ok = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                        new HttpResponseStatus(200, "Connection established"));
                ctx.writeAndFlush(ok).addListener(f -> {
                    inbound.pipeline().remove("connect");
                    inbound.pipeline().remove("aggregator");
                    inbound.pipeline().remove("codec");
                    join(inbound, outbound);
                });
            });
        }

        private void reply(ChannelHandlerContext ctx, HttpResponseStatus status, boolean close) {
            DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER);
            r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
            var f = ctx.writeAndFlush(r);
            if (close) {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        }
    }

    private final class SocksHandler extends SimpleChannelInboundHandler<Object> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            var p = ctx.pipeline();
            if (msg instanceof Socks5InitialRequest init) {
                boolean wantsAuth = username != null;
                Socks5AuthMethod method = wantsAuth ? Socks5AuthMethod.PASSWORD : Socks5AuthMethod.NO_AUTH;
                if (!init.authMethods().contains(method)) {
                    refused.incrementAndGet();
                    ctx.writeAndFlush(new DefaultSocks5InitialResponse(Socks5AuthMethod.UNACCEPTED))
                            .addListener(ChannelFutureListener.CLOSE);
                    return;
                }
                p.replace("decoder", "decoder", wantsAuth ? new Socks5PasswordAuthRequestDecoder()
                        : new Socks5CommandRequestDecoder());
                ctx.writeAndFlush(new DefaultSocks5InitialResponse(method));
            } else if (msg instanceof Socks5PasswordAuthRequest auth) {
                if (!username.equals(auth.username()) || !password.equals(auth.password())) {
                    refused.incrementAndGet();
                    ctx.writeAndFlush(new DefaultSocks5PasswordAuthResponse(Socks5PasswordAuthStatus.FAILURE))
                            .addListener(ChannelFutureListener.CLOSE);
                    return;
                }
                p.replace("decoder", "decoder", new Socks5CommandRequestDecoder());
                ctx.writeAndFlush(new DefaultSocks5PasswordAuthResponse(Socks5PasswordAuthStatus.SUCCESS));
            } else if (msg instanceof Socks5CommandRequest cmd && cmd.type() == Socks5CommandType.CONNECT) {
                Channel inbound = ctx.channel();
                inbound.config().setAutoRead(false);
                dialTarget(inbound, cmd.dstAddr(), cmd.dstPort(), outbound -> {
                    if (outbound == null) {
                        ctx.writeAndFlush(new DefaultSocks5CommandResponse(Socks5CommandStatus.FAILURE,
                                Socks5AddressType.IPv4)).addListener(ChannelFutureListener.CLOSE);
                        return;
                    }
                    ctx.writeAndFlush(new DefaultSocks5CommandResponse(Socks5CommandStatus.SUCCESS,
                            Socks5AddressType.IPv4, "127.0.0.1", 0)).addListener(f -> {
                                p.remove("socks");
                                p.remove("decoder");
                                p.remove("encoder");
                                join(inbound, outbound);
                            });
                });
            } else {
                ctx.close();
            }
        }
    }
}

package io.sluice.http;

import static io.sluice.http.HttpTestSupport.testPool;
import static org.assertj.core.api.Assertions.assertThat;

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
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.sluice.testkit.SelfSignedTls;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review of "a connection the pool closes is closed now, not when a timer of its pipeline fires": what the forced
 * close ({@code channel.unsafe().close}) skips of the pipeline's own close.
 */
class ConnectionCloseTest {

    /**
     * Intended (HttpConnection.close()'s javadoc): "the pipeline's close is tried first (HTTP/2's GOAWAY, TLS's
     * close_notify)". With a stream in flight the HTTP/2 handler sends GOAWAY and keeps the close for its (0 ms)
     * timer, so it never reaches the SslHandler: the socket is closed under it without close_notify, on a live event
     * loop too (shared resources: before the change the timer ran and close_notify went out). The peer sees a TLS
     * truncation (RFC 8446 §6.1: close_notify before closing the write side).
     */
    @Test
    @Timeout(60)
    void anH2ConnectionClosedWithAStreamInFlightStillSendsCloseNotify() throws Exception {
        try (RawH2TlsServer server = new RawH2TlsServer();
             SluiceResources shared = SluiceResources.builder().ioThreads(1).build()) {
            ConnectionPoolManager client = ConnectionPoolManager.builder().poolConfig(testPool().build())
                    .resources(shared)
                    .tls(TlsOptions.builder().trustCertificatePem(server.certificatePem()).build()).build();
            CompletableFuture<HttpResponse> call = client.send(HttpRequest.newBuilder(server.uri("/ping")).build());
            assertThat(server.headersSeen.await(20, TimeUnit.SECONDS)).as("the request's HEADERS arrived").isTrue();

            client.close(); // the pool closes the connection with its stream in flight; the loop stays up (shared)

            String how = server.closeNotify.get(20, TimeUnit.SECONDS);
            assertThat(call.handle((r, e) -> e).get(10, TimeUnit.SECONDS)).as("the call failed").isNotNull();
            assertThat(server.goAwaySeen.getCount()).as("GOAWAY before the close").isZero();
            assertThat(how).as("how the client's TLS ended (close_notify received, or the socket closed without it)")
                    .isEqualTo("close_notify");
        }
    }

    /**
     * An HTTP/2-over-TLS server that sends its SETTINGS, answers nothing, and records what the client sent (HEADERS,
     * GOAWAY) and how its TLS ended: {@code close_notify} when the client said so, otherwise the cause.
     */
    private static final class RawH2TlsServer implements AutoCloseable {
        private static final byte[] EMPTY_SETTINGS = {0, 0, 0, 4, 0, 0, 0, 0, 0};
        private static final byte[] SETTINGS_ACK = {0, 0, 0, 4, 1, 0, 0, 0, 0};
        private static final int PREFACE = 24;

        final CountDownLatch headersSeen = new CountDownLatch(1);
        final CountDownLatch goAwaySeen = new CountDownLatch(1);
        final CompletableFuture<String> closeNotify = new CompletableFuture<>();
        private final SelfSignedTls tls = SelfSignedTls.generate();
        private final SslContext ssl = tls.nettyServerContext(ApplicationProtocolNames.HTTP_2);
        private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        private final Channel listener;

        RawH2TlsServer() {
            listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            SslHandler handler = ssl.newHandler(ch.alloc());
                            handler.sslCloseFuture().addListener(f -> closeNotify.complete(
                                    f.isSuccess() ? "close_notify" : "closed without close_notify: " + f.cause()));
                            ch.pipeline().addLast(handler, new Frames());
                        }
                    }).bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
        }

        String certificatePem() {
            return tls.certificatePem();
        }

        URI uri(String path) {
            return URI.create("https://localhost:" + ((InetSocketAddress) listener.localAddress()).getPort() + path);
        }

        @Override
        public void close() {
            listener.close().syncUninterruptibly();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            ReferenceCountUtil.release(ssl);
        }

        /** Reads the client's frames (after the preface) by their 9-byte headers; answers with SETTINGS only. */
        private final class Frames extends ChannelInboundHandlerAdapter {
            private final ByteBuf in = Unpooled.buffer();
            private boolean prefaceSkipped;
            private boolean settingsSent;

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                try {
                    in.writeBytes((ByteBuf) msg);
                } finally {
                    ReferenceCountUtil.release(msg);
                }
                if (!settingsSent) {
                    settingsSent = true;
                    ctx.writeAndFlush(Unpooled.wrappedBuffer(EMPTY_SETTINGS, SETTINGS_ACK));
                }
                if (!prefaceSkipped) {
                    if (in.readableBytes() < PREFACE) {
                        return;
                    }
                    in.skipBytes(PREFACE);
                    prefaceSkipped = true;
                }
                while (in.readableBytes() >= 9) {
                    int length = in.getUnsignedMedium(in.readerIndex());
                    if (in.readableBytes() < 9 + length) {
                        return;
                    }
                    int type = in.getUnsignedByte(in.readerIndex() + 3);
                    if (type == 0x1) {
                        headersSeen.countDown();
                    } else if (type == 0x7) {
                        goAwaySeen.countDown();
                    }
                    in.skipBytes(9 + length);
                }
                in.discardReadBytes();
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close();
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                in.release();
                ctx.fireChannelInactive();
            }
        }
    }
}

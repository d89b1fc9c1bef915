package io.sluice.testkit;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets up each accepted connection: counters, registry, idle timeout, then TLS with ALPN (TLS port)
 * or the h2c preface sniffer (plain port). Sharable; holds only thread-safe server-wide objects.
 */
@io.netty.channel.ChannelHandler.Sharable
final class ConnectionInitializer extends ChannelInitializer<SocketChannel> {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionInitializer.class);

    private final MockServerContext server;
    private final ProtocolPipelines pipelines;
    private final SslContext sslContext;
    private final HandshakeClassifier handshakes;

    /** @param sslContext null for the cleartext port */
    ConnectionInitializer(MockServerContext server, ProtocolPipelines pipelines, SslContext sslContext,
            HandshakeClassifier handshakes) {
        this.server = server;
        this.pipelines = pipelines;
        this.sslContext = sslContext;
        this.handshakes = handshakes;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        ConnectionState state = new ConnectionState(ch, server.stats, server.behavior().goAwayAfterStreams());
        ch.attr(ConnectionState.KEY).set(state);
        server.stats.connectionOpened();
        server.connections.add(ch);
        ch.closeFuture().addListener(f -> {
            server.stats.connectionClosed();
            state.closed();
        });
        ChannelPipeline p = ch.pipeline();
        p.addLast("linger", new LingeringClose()); // first: every polite close passes it, abrupt ones start below it
        long idleMs = server.options.idleTimeout().toMillis();
        if (idleMs > 0) {
            p.addLast("idle", new IdleStateHandler(0, 0, idleMs, TimeUnit.MILLISECONDS));
            p.addLast("idle-close", IdleCloser.INSTANCE);
        }
        if (sslContext == null) {
            p.addLast("sniff", new PrefaceSniffer(pipelines));
            return;
        }
        SslHandler ssl = sslContext.newHandler(ch.alloc());
        long acceptedAt = System.currentTimeMillis();
        ssl.handshakeFuture().addListener(f -> {
            if (f.isSuccess()) {
                server.stats.handshake(handshakes.resumed(ssl.engine(), acceptedAt));
            } else {
                server.stats.handshakeFailed();
            }
        });
        p.addLast("tls", ssl);
        p.addLast("alpn", new ApplicationProtocolNegotiationHandler(ApplicationProtocolNames.HTTP_1_1) {
            @Override
            protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
                if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                    pipelines.http2(ctx.channel());
                } else if (ApplicationProtocolNames.HTTP_1_1.equals(protocol)) {
                    pipelines.http1(ctx.pipeline());
                } else {
                    ctx.close();
                }
            }

            @Override
            protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
                LOG.debug("TLS handshake failed on {}", ctx.channel(), cause);
                ctx.close();
            }
        });
    }
}

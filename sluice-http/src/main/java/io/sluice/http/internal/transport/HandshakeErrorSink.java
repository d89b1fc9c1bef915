package io.sluice.http.internal.transport;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of a TLS channel until its protocol's handlers replace it. A failed handshake
 * (an untrusted certificate, a peer's alert, a timeout) is reported through the handshake future,
 * which fails the connect with a typed error; the same error is also fired down the pipeline, and
 * without this handler Netty would log it at WARN as unhandled. It closes the channel.
 *
 * <p><b>Thread-safety:</b> stateless and sharable.
 */
@ChannelHandler.Sharable
final class HandshakeErrorSink extends ChannelInboundHandlerAdapter {
    static final String NAME = "handshake-errors";
    static final HandshakeErrorSink INSTANCE = new HandshakeErrorSink();
    private static final Logger LOG = LoggerFactory.getLogger(HandshakeErrorSink.class);

    private HandshakeErrorSink() {
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("{}: error before the protocol was set up: {}", ctx.channel(), cause.toString());
        ctx.close();
    }
}

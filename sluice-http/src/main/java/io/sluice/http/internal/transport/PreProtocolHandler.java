package io.sluice.http.internal.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of a TLS channel until its protocol's handlers are in, one per channel.
 *
 * <ul>
 *   <li>A failed handshake (an untrusted certificate, a peer's alert, a timeout) is reported
 *   through the handshake future, which fails the connect with a typed error; the same error is
 *   also fired down the pipeline, and without this handler Netty would log it at WARN as
 *   unhandled. It closes the channel.</li>
 *   <li>Application bytes that arrive with the handshake's last flight are held, not dropped. With
 *   TLS 1.3 a server's first HTTP/2 frames (its SETTINGS) can come in the same TCP segment as its
 *   Finished, and {@code SslHandler} decodes them in the same read that completes the handshake,
 *   before the protocol's handlers exist: the tail dropped them, and the HTTP/2 codec then saw the
 *   server's WINDOW_UPDATE first and failed the connection ("First received frame was not
 *   SETTINGS"; fresh-machine CI, {@code ConnectionLossFaultTest}). Turning auto-read off stops only
 *   later reads. When this handler is removed, after the protocol's handlers were added behind it,
 *   it passes what it held on to them, in order (as Netty's {@code ApplicationProtocolNegotiationHandler}
 *   does).</li>
 * </ul>
 *
 * <p><b>Thread-safety:</b> confined to its channel's event loop. <b>Ownership:</b> owns the
 * buffers it holds until it passes them on, or releases them when the channel is gone.
 */
final class PreProtocolHandler extends ChannelInboundHandlerAdapter {
    static final String NAME = "pre-protocol";
    private static final Logger LOG = LoggerFactory.getLogger(PreProtocolHandler.class);

    /** Messages read before the protocol's handlers were in, oldest first. Event-loop confined. */
    private final ArrayDeque<Object> held = new ArrayDeque<>(2);

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        held.add(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // nothing to complete yet: the held bytes are passed on with a read-complete when this handler goes
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("{}: error before the protocol was set up: {}", ctx.channel(), cause.toString());
        ctx.close();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (held.isEmpty()) {
            return;
        }
        if (!ctx.channel().isActive()) {
            for (Object m; (m = held.poll()) != null; ) {
                ReferenceCountUtil.release(m);
            }
            return;
        }
        for (Object m; (m = held.poll()) != null; ) {
            ctx.fireChannelRead(m);
        }
        ctx.fireChannelReadComplete();
    }
}

package io.sluice.testkit;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * Closes a connection the way nginx does ({@code lingering_close}): send FIN after everything written, then read and
 * drop what the client still sends until it closes too, for at most {@link #LINGER_MILLIS}.
 *
 * <p>Why: a socket closed while the client's bytes (a WINDOW_UPDATE, a SETTINGS, a PING) are still arriving makes
 * the server's kernel answer with a TCP reset, and a reset makes the client's kernel discard the response bytes it
 * has received but not yet read: the end of a response the server wrote completely is lost. A graceful GOAWAY whose
 * last streams end just as the client acknowledges their data hits that race (seen: a streamed response below the
 * GOAWAY's last-stream-id cut by "Connection reset by peer"). Abrupt closes ({@code closeAbruptly}, {@code closeNow})
 * start below this handler and are not delayed.
 *
 * <p><b>Thread-safety:</b> one instance per channel; event-loop confined.
 */
final class LingeringClose extends ChannelDuplexHandler {

    static final long LINGER_MILLIS = 2_000;

    private boolean lingering;
    private ChannelPromise closePromise;

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        Channel ch = ctx.channel();
        if (lingering || !(ch instanceof DuplexChannel duplex) || !ch.isActive() || ch.eventLoop().isShuttingDown()) {
            ctx.close(promise);
            return;
        }
        lingering = true;
        closePromise = promise;
        ch.config().setAutoRead(true);
        // The empty write completes after every write queued before it: only then may the output be shut down.
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
            if (ch.isActive()) {
                duplex.shutdownOutput();
            }
        });
        ch.eventLoop().schedule(() -> closeNow(ctx), LINGER_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void closeNow(ChannelHandlerContext ctx) {
        ChannelPromise p = closePromise;
        if (p != null) {
            closePromise = null;
            ctx.close(p);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (lingering) {
            ReferenceCountUtil.release(msg); // the connection is over: what the client still sends is dropped
            return;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (lingering && evt instanceof ChannelInputShutdownEvent) {
            closeNow(ctx); // the client closed its side too
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        ChannelPromise p = closePromise;
        closePromise = null;
        if (p != null) {
            p.trySuccess();
        }
        super.channelInactive(ctx);
    }
}

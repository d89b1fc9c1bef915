package io.sluice.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * HTTP/1.1 "slow headers": once {@linkplain #arm armed}, writes the encoded bytes that follow one at
 * a time, with a scheduled delay between bytes, until the blank line ending the response head has
 * gone out; writes arriving meanwhile wait in order. Sits between the transport (or TLS) and the
 * HTTP codec so it sees the codec's encoded bytes.
 *
 * <p>Confined to its channel's event loop; one instance per connection. Owns the queued buffers
 * until written and releases them if the channel closes first.
 */
final class SlowHeadWriter extends ChannelDuplexHandler {
    private static final byte CR = '\r';
    private static final byte LF = '\n';

    private final ArrayDeque<Object> queue = new ArrayDeque<>();
    private final ArrayDeque<ChannelPromise> promises = new ArrayDeque<>();
    private long delayMs;
    private boolean dripping;
    /** How much of "\r\n\r\n" the dripped bytes have matched so far. */
    private int matched;

    /** The next response head goes out one byte per {@code delayMs}. */
    void arm(long delayMs) {
        this.delayMs = delayMs;
        this.matched = 0;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (delayMs == 0 && queue.isEmpty()) {
            ctx.write(msg, promise);
            return;
        }
        queue.add(msg);
        promises.add(promise);
        if (!dripping && delayMs > 0) {
            dripping = true;
            dripOne(ctx);
        }
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (!dripping) {
            ctx.flush();
        }
    }

    private void dripOne(ChannelHandlerContext ctx) {
        if (!ctx.channel().isActive()) {
            failQueued(new ClosedChannelException());
            return;
        }
        Object head = queue.peek();
        if (!(head instanceof ByteBuf buf) || !buf.isReadable()) {
            ctx.write(queue.poll(), promises.poll());
            continueOrDrain(ctx);
            return;
        }
        byte b = buf.readByte();
        ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte(b));
        if (!buf.isReadable()) {
            buf.release();
            queue.poll();
            promises.poll().trySuccess();
        }
        matched = advance(matched, b);
        if (matched == 4) {
            delayMs = 0;
        }
        continueOrDrain(ctx);
    }

    private void continueOrDrain(ChannelHandlerContext ctx) {
        if (delayMs > 0 && !queue.isEmpty()) {
            ctx.executor().schedule(() -> dripOne(ctx), delayMs, TimeUnit.MILLISECONDS);
            return;
        }
        if (delayMs > 0) {
            // Head not complete yet and nothing queued: wait for the codec's next write.
            dripping = false;
            return;
        }
        while (!queue.isEmpty()) {
            ctx.write(queue.poll(), promises.poll());
        }
        dripping = false;
        ctx.flush();
    }

    private static int advance(int matched, byte b) {
        boolean wantCr = matched == 0 || matched == 2;
        if (wantCr) {
            return b == CR ? matched + 1 : 0;
        }
        if (b == LF) {
            return matched + 1;
        }
        return b == CR ? 1 : 0;
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        failQueued(new ClosedChannelException());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        failQueued(new ClosedChannelException());
        ctx.fireChannelInactive();
    }

    private void failQueued(Throwable cause) {
        Object m;
        while ((m = queue.poll()) != null) {
            io.netty.util.ReferenceCountUtil.release(m);
            promises.poll().tryFailure(cause);
        }
        dripping = false;
    }
}

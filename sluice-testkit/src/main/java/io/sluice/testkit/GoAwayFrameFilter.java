package io.sluice.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;

/**
 * Drops frames that a client may legitimately still send for streams above the last-stream-id of a
 * GOAWAY we sent (it opened them before it saw the GOAWAY), as RFC 9113 §6.8 lets the GOAWAY
 * sender do. Netty's decoder instead treats DATA, RST_STREAM and WINDOW_UPDATE on such a stream as
 * a connection error ("Stream N does not exist"), because the refused stream was never created;
 * real servers (nginx, envoy) ignore them, and so must the mock.
 *
 * <p>Sits before the HTTP/2 codec and walks the frame headers of the inbound byte stream without
 * copying payloads; before any GOAWAY it passes every buffer on unchanged. HEADERS and CONTINUATION
 * always pass, because their header blocks must still be decoded to keep the HPACK state in step
 * (Netty then refuses the stream with RST_STREAM(REFUSED_STREAM) and keeps the connection). The
 * connection-window credit of dropped DATA is returned with a WINDOW_UPDATE on stream 0, so the
 * client's send window for the streams still being served does not shrink.
 *
 * <p>One instance per connection, confined to its event loop.
 */
final class GoAwayFrameFilter extends ChannelInboundHandlerAdapter {
    private static final int HEADER = 9;
    private static final int TYPE_DATA = 0x0;
    private static final int TYPE_PRIORITY = 0x2;
    private static final int TYPE_RST_STREAM = 0x3;
    private static final int TYPE_WINDOW_UPDATE = 0x8;

    private final Http2Connection connection;
    /** Client preface bytes still to pass before the first frame header. */
    private int prefaceLeft = Http2CodecUtil.connectionPrefaceBuf().readableBytes();
    /** A frame header split across reads, held back until complete. */
    private final byte[] partial = new byte[HEADER];
    private int partialLength;
    /** Payload bytes of the current frame still to come, and whether they are being dropped. */
    private long payloadLeft;
    private boolean dropping;

    GoAwayFrameFilter(Http2Connection connection) {
        this.connection = connection;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        // Index arithmetic over the buffer: kept runs are sliced out only when something is dropped
        // or a frame header straddles two reads; otherwise the buffer is passed on as it is.
        int idx = in.readerIndex();
        int end = in.writerIndex();
        int keepFrom = idx;
        CompositeByteBuf out = null;
        long droppedData = 0;
        while (idx < end) {
            if (prefaceLeft > 0) {
                int n = Math.min(prefaceLeft, end - idx);
                idx += n;
                prefaceLeft -= n;
            } else if (payloadLeft > 0) {
                int n = (int) Math.min(payloadLeft, end - idx);
                idx += n;
                payloadLeft -= n;
                if (dropping) {
                    keepFrom = idx;
                }
            } else {
                boolean headerInBuffer = partialLength == 0 && end - idx >= HEADER;
                if (headerInBuffer) {
                    in.getBytes(idx, partial, 0, HEADER);
                    idx += HEADER;
                } else {
                    out = keep(ctx, out, in, keepFrom, idx);
                    int n = Math.min(HEADER - partialLength, end - idx);
                    in.getBytes(idx, partial, partialLength, n);
                    idx += n;
                    keepFrom = idx;
                    partialLength += n;
                    if (partialLength < HEADER) {
                        continue;
                    }
                }
                partialLength = 0;
                long length = startFrame();
                if (dropping) {
                    if (headerInBuffer) {
                        out = keep(ctx, out, in, keepFrom, idx - HEADER);
                    }
                    keepFrom = idx;
                    droppedData += length;
                } else if (!headerInBuffer) {
                    out = out != null ? out : ctx.alloc().compositeBuffer();
                    out.addComponent(true, Unpooled.wrappedBuffer(partial.clone()));
                }
            }
        }
        if (droppedData > 0) {
            ctx.writeAndFlush(windowUpdate(ctx, droppedData));
        }
        if (out == null && keepFrom == in.readerIndex()) {
            ctx.fireChannelRead(in);
            return;
        }
        out = keep(ctx, out, in, keepFrom, end);
        in.release();
        if (out != null) {
            ctx.fireChannelRead(out);
        }
    }

    private static CompositeByteBuf keep(ChannelHandlerContext ctx, CompositeByteBuf out, ByteBuf in, int from,
            int to) {
        if (to <= from) {
            return out;
        }
        CompositeByteBuf o = out != null ? out : ctx.alloc().compositeBuffer();
        o.addComponent(true, in.retainedSlice(from, to - from));
        return o;
    }

    /**
     * Reads the frame header in {@link #partial}, sets the payload to skip and whether the frame is
     * dropped; returns the payload length when a DATA frame is dropped, else 0.
     */
    private long startFrame() {
        int length = (partial[0] & 0xff) << 16 | (partial[1] & 0xff) << 8 | partial[2] & 0xff;
        int type = partial[3] & 0xff;
        int streamId = (partial[5] & 0x7f) << 24 | (partial[6] & 0xff) << 16 | (partial[7] & 0xff) << 8
                | partial[8] & 0xff;
        payloadLeft = length;
        dropping = isAboveGoAway(streamId) && (type == TYPE_DATA || type == TYPE_RST_STREAM
                || type == TYPE_WINDOW_UPDATE || type == TYPE_PRIORITY);
        return dropping && type == TYPE_DATA ? length : 0;
    }

    private boolean isAboveGoAway(int streamId) {
        return streamId != 0 && connection.goAwaySent() && connection.remote().isValidStreamId(streamId)
                && streamId > connection.remote().lastStreamKnownByPeer();
    }

    private static ByteBuf windowUpdate(ChannelHandlerContext ctx, long increment) {
        ByteBuf b = ctx.alloc().buffer(HEADER + 4);
        b.writeMedium(4).writeByte(TYPE_WINDOW_UPDATE).writeByte(0).writeInt(0);
        b.writeInt((int) Math.min(increment, Integer.MAX_VALUE));
        return b;
    }
}

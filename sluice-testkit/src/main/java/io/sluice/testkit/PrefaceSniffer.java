package io.sluice.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * On the cleartext port, tells HTTP/2 prior knowledge (the 24-byte client preface) from HTTP/1.1 by
 * the first bytes, installs the matching handlers and removes itself; the bytes read so far are
 * handed to the new handlers. One instance per connection, confined to its event loop.
 */
final class PrefaceSniffer extends ByteToMessageDecoder {
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final ProtocolPipelines pipelines;

    PrefaceSniffer(ProtocolPipelines pipelines) {
        this.pipelines = pipelines;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int n = Math.min(in.readableBytes(), PREFACE.length);
        for (int i = 0; i < n; i++) {
            if (in.getByte(in.readerIndex() + i) != PREFACE[i]) {
                pipelines.http1(ctx.pipeline());
                ctx.pipeline().remove(this);
                return;
            }
        }
        if (n == PREFACE.length) {
            pipelines.http2(ctx.channel());
            ctx.pipeline().remove(this);
        }
        // Otherwise a prefix of the preface so far: wait for more bytes.
    }
}

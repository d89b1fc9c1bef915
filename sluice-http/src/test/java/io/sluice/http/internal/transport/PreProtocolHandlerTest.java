package io.sluice.http.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Bytes decoded in the read that completes the TLS handshake (a server's SETTINGS sent with its
 * Finished) reach the protocol's handlers, in order, once they are in; before, the pipeline's tail
 * dropped them and the HTTP/2 codec failed with "First received frame was not SETTINGS".
 */
class PreProtocolHandlerTest {

    @Test
    void bytesReadBeforeTheProtocolIsInReachItInOrder() {
        EmbeddedChannel ch = new EmbeddedChannel(new PreProtocolHandler());
        ch.writeInbound(buf("SETTINGS"), buf("WINDOW_UPDATE"));
        assertThat((Object) ch.readInbound()).as("nothing reaches the tail while no protocol is in").isNull();

        List<String> seen = new ArrayList<>();
        int[] completes = {0};
        ch.pipeline().addLast("protocol", new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                seen.add(((ByteBuf) msg).toString(StandardCharsets.US_ASCII));
                ((ByteBuf) msg).release();
            }

            @Override
            public void channelReadComplete(ChannelHandlerContext ctx) {
                completes[0]++;
            }
        });
        ch.pipeline().remove(PreProtocolHandler.class); // what the connection manager does once the protocol is in
        assertThat(seen).containsExactly("SETTINGS", "WINDOW_UPDATE");
        assertThat(completes[0]).isEqualTo(1);
        ch.finishAndReleaseAll();
    }

    @Test
    void heldBytesAreReleasedWhenTheChannelIsGone() {
        EmbeddedChannel ch = new EmbeddedChannel(new PreProtocolHandler());
        ByteBuf b = buf("SETTINGS");
        ch.writeInbound(b);
        ch.close();
        assertThat(b.refCnt()).isZero();
    }

    private static ByteBuf buf(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }
}

package io.sluice.http.internal.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.handler.codec.compression.ZlibWrapper;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.sluice.http.LimitExceededException;
import io.sluice.http.internal.transport.Exchange;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The inflating decoder on its own, with an allocator that counts the bytes its buffers hold: what a
 * decompression bomb costs in memory before the body limit stops it.
 */
@Timeout(30)
class BodyDecoderTest {

    private static final long LIMIT = 1 << 20;

    /**
     * One network frame (16 KiB, the most one HTTP/2 DATA frame carries by default) of a gzip bomb inflates to
     * about 16 MiB. The limit is 1 MiB: the decoder must stop near it, not inflate the whole frame first and
     * count afterwards (16 MiB held per hostile stream, whatever the limit says).
     */
    @Test
    void aSingleFrameBombIsStoppedNearTheLimitNotAfterInflatingTheWholeFrame() throws Exception {
        byte[] bomb = gzip(new byte[64 << 20]);
        byte[] frame = Arrays.copyOf(bomb, 16_384); // one frame's worth of the bomb
        CountingAllocator alloc = new CountingAllocator();
        BodyDecoder decoder = new BodyDecoder("bomb", new NoExchange(), ZlibWrapper.GZIP, LIMIT, alloc);
        List<ByteBuf> seen = new ArrayList<>();
        assertThatThrownBy(() -> decoder.decode(Unpooled.wrappedBuffer(frame), seen::add))
                .isInstanceOfSatisfying(LimitExceededException.class,
                        e -> assertThat(e.limit()).isEqualTo(LimitExceededException.Limit.BODY));
        decoder.release();
        assertThat(seen).as("nothing past the limit reaches the reader").isEmpty();
        assertThat(alloc.peak.get()).as("bytes held at once while inflating one bomb frame (limit %s)", LIMIT)
                .isLessThanOrEqualTo(LIMIT + (256 << 10));
        assertThat(alloc.live.get()).as("every inflated buffer freed").isZero();
    }

    /** The bounded steps change nothing for an ordinary body: every byte inflated, in order, across frames. */
    @Test
    void anOrdinaryBodySplitAcrossFramesInflatesExactly() throws Exception {
        byte[] raw = new byte[3 << 20];
        java.util.Random random = new java.util.Random(3);
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (byte) ('a' + random.nextInt(4)); // compresses about 4:1
        }
        byte[] gz = gzip(raw);
        CountingAllocator alloc = new CountingAllocator();
        BodyDecoder decoder = new BodyDecoder("plain", new NoExchange(), ZlibWrapper.GZIP, 8L << 20, alloc);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int off = 0; off < gz.length; off += 16_384) {
            byte[] part = Arrays.copyOfRange(gz, off, Math.min(gz.length, off + 16_384));
            decoder.decode(Unpooled.wrappedBuffer(part), b -> {
                byte[] bytes = new byte[b.readableBytes()];
                b.readBytes(bytes);
                b.release();
                out.writeBytes(bytes);
            });
        }
        decoder.finish(b -> b.release());
        assertThat(out.toByteArray()).isEqualTo(raw);
        assertThat(alloc.live.get()).isZero();
    }

    static byte[] gzip(byte[] in) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out, 64 << 10)) {
            z.write(in);
        }
        return out.toByteArray();
    }

    /** Heap buffers whose arrays are counted as they are allocated and freed (growth included). */
    static final class CountingAllocator extends AbstractByteBufAllocator {
        final AtomicLong live = new AtomicLong();
        final AtomicLong peak = new AtomicLong();

        CountingAllocator() {
            super(false);
        }

        private void add(long n) {
            long now = live.addAndGet(n);
            peak.accumulateAndGet(now, Math::max);
        }

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            return new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity) {
                @Override
                protected byte[] allocateArray(int n) {
                    add(n);
                    return new byte[n];
                }

                @Override
                protected void freeArray(byte[] array) {
                    add(-array.length);
                }
            };
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            return newHeapBuffer(initialCapacity, maxCapacity);
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }
    }

    /** The network side of a response nobody credits or cancels here. */
    private static final class NoExchange implements Exchange {
        @Override
        public void cancel(Throwable reason) {
        }

        @Override
        public void bytesConsumed(int bytes) {
        }

        @Override
        public void readingWanted(boolean wanted) {
        }

        @Override
        public boolean connectionReused() {
            return false;
        }

        @Override
        public EventExecutor executor() {
            return ImmediateEventExecutor.INSTANCE;
        }
    }
}

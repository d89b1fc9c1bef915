package io.sluice.http.internal.client;

import io.netty.buffer.ByteBuf;
import io.sluice.http.BodyChunk;
import io.sluice.http.internal.transport.Exchange;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A {@link BodyChunk} over one retained network buffer. Closing releases the buffer
 * exactly once and reports the bytes consumed, so HTTP/2 credits the window.
 *
 * <p><b>Thread-safety:</b> {@link #close()} is safe from any thread and idempotent.
 */
final class PooledChunk implements BodyChunk {

    private final ByteBuf buf;
    private final Exchange exchange;
    private final int size;
    private final AtomicBoolean closed = new AtomicBoolean();
    private ByteBuffer view;

    PooledChunk(ByteBuf buf, Exchange exchange) {
        this.buf = buf;
        this.exchange = exchange;
        this.size = buf.readableBytes();
    }

    @Override
    public ByteBuffer buffer() {
        if (closed.get()) {
            throw new IllegalStateException("chunk used after close(): its buffer was released");
        }
        if (view == null) {
            view = buf.nioBufferCount() == 1 ? buf.nioBuffer().asReadOnlyBuffer()
                    : ByteBuffer.wrap(io.netty.buffer.ByteBufUtil.getBytes(buf)).asReadOnlyBuffer();
        }
        return view;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            buf.release();
            exchange.bytesConsumed(size);
        }
    }
}

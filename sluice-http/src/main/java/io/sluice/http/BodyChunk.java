package io.sluice.http;

import java.nio.ByteBuffer;

/**
 * One piece of a streamed response body, handed over without copying: a read-only view
 * of the network buffer the bytes arrived in.
 *
 * <p><b>Ownership:</b> the receiver owns the chunk and must {@link #close()} it when done
 * (try-with-resources). Closing releases the network buffer and, on HTTP/2, credits the
 * stream's flow-control window, so an unclosed chunk both leaks memory and eventually
 * stalls the stream. After {@code close()} the buffer must not be read.
 *
 * <p><b>Thread-safety:</b> {@code close()} is idempotent and may be called from any
 * thread; the buffer view is not thread-safe (it has a position).
 */
public interface BodyChunk extends AutoCloseable {

    /** A read-only view of the bytes; valid until {@link #close()}. */
    ByteBuffer buffer();

    /** Number of bytes in the chunk. */
    int size();

    /** Releases the buffer; idempotent. */
    @Override
    void close();
}

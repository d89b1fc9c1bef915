package io.sluice.http.sdk;

import io.sluice.http.BodyChunk;
import io.sluice.http.RequestTimeoutException;
import io.sluice.http.StreamingResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * A blocking {@link InputStream} over a {@link StreamingResponse}'s chunks: live and unbuffered.
 * Each chunk is copied out and released as soon as the reader has taken its bytes, so a long
 * stream never holds more than one network buffer and HTTP/2 flow control keeps moving.
 *
 * <p>Reaching the end frees the pool slot (the response ends itself); {@link #close()} before
 * the end closes the response, which resets the HTTP/2 stream or closes the HTTP/1.1
 * connection. Body failures are thrown as {@link IOException}s whose cause is the
 * {@code SluiceHttpException}; timeouts as {@link InterruptedIOException}, OkHttp's type for
 * them, so the SDKs treat both transports alike.
 *
 * <p><b>Thread-safety:</b> one reading thread at a time; {@link #close()} may be called from any
 * thread, also while a read is blocked (that read then fails with "stream closed"). The current
 * chunk is guarded by a lock so that a close never releases a buffer under a running copy.
 * <b>Ownership:</b> owns the response and the chunk being read.
 */
public final class ChunkInputStream extends InputStream {

    private final StreamingResponse response;
    private final Runnable onDone;
    private final Object lock = new Object();
    /** Completed by {@link #close()} so that a read blocked on the next chunk wakes up. */
    private final CompletableFuture<BodyChunk> closedSignal = new CompletableFuture<>();
    private BodyChunk chunk; // guarded by lock
    private ByteBuffer buffer; // guarded by lock
    private boolean closed; // guarded by lock
    private boolean eof; // guarded by lock

    /** {@code onDone} runs once, when the stream is closed or reaches the end of the body. */
    public ChunkInputStream(StreamingResponse response, Runnable onDone) {
        this.response = response;
        this.onDone = onDone;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        for (;;) {
            synchronized (lock) {
                if (closed) {
                    throw new IOException("stream closed");
                }
                if (eof) {
                    return -1;
                }
                if (buffer != null) {
                    int n = Math.min(len, buffer.remaining());
                    buffer.get(b, off, n);
                    if (!buffer.hasRemaining()) {
                        releaseChunk();
                    }
                    return n;
                }
            }
            BodyChunk next = await(response.readChunk()); // outside the lock: close() must not wait for the network
            boolean ended = false;
            synchronized (lock) {
                if (closed) {
                    if (next != null) {
                        next.close(); // close() raced with this read
                    }
                    throw new IOException("stream closed");
                }
                if (next == null) {
                    eof = true;
                    ended = true;
                } else if (next.size() == 0) {
                    next.close();
                } else {
                    chunk = next;
                    buffer = next.buffer();
                }
            }
            if (ended) {
                onDone.run(); // the body ended: the response already freed its slot
                return -1;
            }
        }
    }

    @Override
    public int available() {
        synchronized (lock) {
            return closed || buffer == null ? 0 : buffer.remaining();
        }
    }

    private BodyChunk await(CompletableFuture<BodyChunk> f) throws IOException {
        try {
            CompletableFuture.anyOf(f, closedSignal).get(); // closedSignal wakes a reader blocked here
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            releaseLate(f);
            throw new InterruptedIOException("interrupted while reading the response body");
        } catch (ExecutionException | CancellationException e) {
            // f failed (closedSignal never fails): reported below
        }
        if (!f.isDone()) {
            releaseLate(f); // closed while waiting
            throw new IOException("stream closed");
        }
        try {
            return f.join();
        } catch (CompletionException | CancellationException e) {
            throw toIOException(e);
        }
    }

    /** A chunk delivered after its reader gave up still has to be released. */
    private static void releaseLate(CompletableFuture<BodyChunk> f) {
        f.whenComplete((c, e) -> {
            if (c != null) {
                c.close();
            }
        });
    }

    public static IOException toIOException(Throwable t) {
        Throwable cause = t;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        IOException io = cause instanceof RequestTimeoutException
                ? new InterruptedIOException(cause.getMessage())
                : new IOException(String.valueOf(cause.getMessage()));
        io.initCause(cause);
        return io;
    }

    private void releaseChunk() {
        BodyChunk c = chunk;
        chunk = null;
        buffer = null;
        if (c != null) {
            c.close();
        }
    }

    /** Frees the slot (when the body has not ended yet) and the chunk being read; idempotent. */
    @Override
    public void close() {
        boolean wasEof;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            wasEof = eof;
            releaseChunk();
        }
        closedSignal.complete(null);
        response.close(); // harmless after the end; before it, RST_STREAM or an HTTP/1.1 close
        if (!wasEof) {
            onDone.run();
        }
    }
}

package io.sluice.http.internal.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.util.concurrent.EventExecutor;
import io.sluice.http.InvalidRequestException;
import java.nio.ByteBuffer;
import java.util.concurrent.Flow;

/**
 * Writes a {@link Flow.Publisher} request body to a connection, one buffer at a time: the
 * next buffer is requested only after the previous one was written to the socket, so a
 * fast publisher cannot fill memory (HTTP/2 flow control and TCP back-pressure propagate
 * to it).
 *
 * <p>Each published {@link ByteBuffer} is copied into a pooled buffer on arrival, so the
 * publisher may reuse it once {@code onNext} returns.
 *
 * <p>With a declared length (the {@code content-length} the request was sent with), the
 * publisher must produce exactly that many bytes. A buffer that would go past it is not
 * written at all, and a completion short of it writes no end of body: the exchange fails
 * with {@link InvalidRequestException} through {@link Sink#bodyFailed} and the publisher is
 * cancelled. Extra bytes on an HTTP/1.1 connection would be read by the server as the start
 * of the next request, missing ones would leave it waiting; on HTTP/2 a content-length that
 * does not match the DATA makes the request malformed (RFC 9113 §8.1.1).
 *
 * <p><b>Thread-safety:</b> the subscriber methods may be called on any thread (serially,
 * as Flow requires, so the byte count needs no lock: each signal happens-before the next);
 * writes run on the connection's event loop. {@link #cancel()} may be called from the event
 * loop at any time.
 */
final class RequestBodyWriter implements Flow.Subscriber<ByteBuffer> {

    /** Where the body goes; called on the event loop. */
    interface Sink {
        /** Writes and flushes one chunk; {@code last} ends the body (the buffer may be empty then). */
        ChannelFuture write(ByteBuf chunk, boolean last);

        /** The publisher failed or a write failed: the exchange must fail. */
        void bodyFailed(Throwable cause);
    }

    private final EventExecutor loop;
    private final ByteBufAllocator alloc;
    private final Sink sink;
    private final long declaredLength;
    private final String route;
    private volatile Flow.Subscription subscription;
    private volatile boolean cancelled;
    /** Bytes the publisher produced so far; touched only by the (serial) subscriber signals. */
    private long published;

    /**
     * @param declaredLength the body's length as sent in {@code content-length}, or -1 when unknown
     *                       (chunked): then any length is fine
     * @param route          {@code scheme://host:port}, for the failure's message
     */
    RequestBodyWriter(EventExecutor loop, ByteBufAllocator alloc, Sink sink, long declaredLength, String route) {
        this.loop = loop;
        this.alloc = alloc;
        this.sink = sink;
        this.declaredLength = declaredLength;
        this.route = route;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        if (subscription != null || cancelled) {
            s.cancel();
            return;
        }
        subscription = s;
        s.request(1);
    }

    @Override
    public void onNext(ByteBuffer item) {
        if (cancelled) {
            return;
        }
        int n = item.remaining();
        if (declaredLength >= 0 && n > declaredLength - published) {
            lengthMismatch("the request body publisher produced more than the declared " + declaredLength
                    + " bytes (at least " + (published + n) + "); the extra bytes were not sent");
            return;
        }
        published += n;
        ByteBuf copy = alloc.buffer(n);
        copy.writeBytes(item);
        loop.execute(() -> {
            if (cancelled) {
                copy.release();
                return;
            }
            sink.write(copy, false).addListener(f -> {
                if (f.isSuccess()) {
                    Flow.Subscription s = subscription;
                    if (!cancelled && s != null) {
                        s.request(1);
                    }
                } else if (!cancelled) {
                    cancel();
                    sink.bodyFailed(f.cause());
                }
            });
        });
    }

    @Override
    public void onError(Throwable t) {
        loop.execute(() -> {
            if (!cancelled) {
                cancelled = true;
                sink.bodyFailed(t);
            }
        });
    }

    @Override
    public void onComplete() {
        if (declaredLength >= 0 && published != declaredLength) {
            lengthMismatch("the request body publisher completed after " + published + " of the declared "
                    + declaredLength + " bytes");
            return;
        }
        loop.execute(() -> {
            if (!cancelled) {
                sink.write(alloc.buffer(0), true);
            }
        });
    }

    /** The publisher broke its declared length: stop reading it and fail the exchange (never end the body). */
    private void lengthMismatch(String message) {
        if (cancelled) {
            return;
        }
        cancel();
        InvalidRequestException e = new InvalidRequestException(route, message);
        loop.execute(() -> sink.bodyFailed(e));
    }

    /** Stops reading the publisher (the exchange ended or failed). */
    void cancel() {
        cancelled = true;
        Flow.Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
    }
}

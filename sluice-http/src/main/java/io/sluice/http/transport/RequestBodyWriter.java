package io.sluice.http.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.util.concurrent.EventExecutor;
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
 * <p><b>Thread-safety:</b> the subscriber methods may be called on any thread (serially,
 * as Flow requires); writes run on the connection's event loop. {@link #cancel()} may be
 * called from the event loop at any time.
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
    private volatile Flow.Subscription subscription;
    private volatile boolean cancelled;

    RequestBodyWriter(EventExecutor loop, ByteBufAllocator alloc, Sink sink) {
        this.loop = loop;
        this.alloc = alloc;
        this.sink = sink;
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
        ByteBuf copy = alloc.buffer(item.remaining());
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
        loop.execute(() -> {
            if (!cancelled) {
                sink.write(alloc.buffer(0), true);
            }
        });
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

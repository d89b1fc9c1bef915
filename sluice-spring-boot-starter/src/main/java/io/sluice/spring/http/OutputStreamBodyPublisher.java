package io.sluice.spring.http;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.springframework.http.StreamingHttpOutputMessage;

/**
 * A request body that Spring writes to an {@link OutputStream}, as the {@link Flow.Publisher} Sluice reads: the
 * body's {@code writeTo} runs on a writer thread and each filled chunk, or each {@code flush()}, is handed to
 * Sluice when it asks for more (so a slow network holds the writer back instead of buffering the whole body).
 *
 * <p>Sluice subscribes again to replay a request the server provably never processed. A body Spring marks
 * repeatable is written again; any other is written once, and a second subscription fails, which fails the
 * replay with that error rather than sending half a body.
 *
 * <p><b>Thread-safety:</b> each subscription has its own writer; signals to one subscriber come from its writer
 * thread only. <b>Ownership:</b> the writer thread comes from the executor given; the chunks handed out are
 * fresh arrays the subscriber may keep.
 */
final class OutputStreamBodyPublisher implements Flow.Publisher<ByteBuffer> {

    static final int CHUNK = 16 * 1024;

    private final StreamingHttpOutputMessage.Body body;
    private final Executor writer;
    private final AtomicBoolean written = new AtomicBoolean();

    OutputStreamBodyPublisher(StreamingHttpOutputMessage.Body body, Executor writer) {
        this.body = body;
        this.writer = writer;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
        if (written.getAndSet(true) && !body.repeatable()) {
            subscriber.onSubscribe(new Flow.Subscription() {
                @Override
                public void request(long n) {
                }

                @Override
                public void cancel() {
                }
            });
            subscriber.onError(new IOException("the request body was streamed once and cannot be written again"));
            return;
        }
        subscriber.onSubscribe(new Writer(subscriber));
    }

    /** One subscription: demand accounting shared between Sluice's thread and the writer thread. */
    private final class Writer extends OutputStream implements Flow.Subscription, Runnable {
        private final Flow.Subscriber<? super ByteBuffer> subscriber;
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition demandOrCancel = lock.newCondition();
        private long demand; // guarded by lock
        private boolean cancelled; // guarded by lock
        private boolean started; // guarded by lock
        private byte[] buffer = new byte[CHUNK]; // writer thread only
        private int count; // writer thread only

        Writer(Flow.Subscriber<? super ByteBuffer> subscriber) {
            this.subscriber = subscriber;
        }

        @Override
        public void request(long n) {
            boolean start;
            lock.lock();
            try {
                if (n <= 0) {
                    cancelled = true; // §3.9: a non-positive request is an error; stop writing
                }
                demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
                start = !started;
                started = true;
                demandOrCancel.signalAll();
            } finally {
                lock.unlock();
            }
            if (start) {
                // Started on the first request, not on subscribe: no writing until Sluice has a stream to write to.
                writer.execute(this);
            }
        }

        @Override
        public void cancel() {
            lock.lock();
            try {
                cancelled = true;
                demandOrCancel.signalAll();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void run() {
            try {
                body.writeTo(this);
                emit();
            } catch (Throwable t) {
                if (!isCancelled()) {
                    subscriber.onError(t);
                }
                return;
            }
            if (!isCancelled()) {
                subscriber.onComplete();
            }
        }

        private boolean isCancelled() {
            lock.lock();
            try {
                return cancelled;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void write(int b) throws IOException {
            if (count == buffer.length) {
                emit();
            }
            buffer[count++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                if (count == buffer.length) {
                    emit();
                }
                int n = Math.min(len, buffer.length - count);
                System.arraycopy(b, off, buffer, count, n);
                count += n;
                off += n;
                len -= n;
            }
        }

        /** A flush hands over what was written so far: a caller that flushes a part wants it on the wire. */
        @Override
        public void flush() throws IOException {
            emit();
        }

        private void emit() throws IOException {
            if (count == 0) {
                return;
            }
            lock.lock();
            try {
                while (demand == 0 && !cancelled) {
                    demandOrCancel.await();
                }
                if (cancelled) {
                    throw new IOException("the request was cancelled while its body was being written");
                }
                demand--;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting to send the request body");
            } finally {
                lock.unlock();
            }
            ByteBuffer chunk = ByteBuffer.wrap(Arrays.copyOf(buffer, count));
            count = 0;
            subscriber.onNext(chunk);
        }

        @Override
        public void close() {
            // The body's end is the return of writeTo, not a close of the stream (some writers close it).
        }
    }
}

package io.sluice.http.internal.client;

import io.sluice.http.SluiceHttpException;

import io.netty.buffer.ByteBuf;
import io.sluice.http.BodyChunk;
import io.sluice.http.RequestTimeoutException;
import io.sluice.http.internal.transport.Exchange;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The receiving end of one response body: network buffers queued by the event loop,
 * taken by the caller one at a time.
 *
 * <ul>
 *   <li>Back-pressure: above {@link #HIGH_WATER} queued bytes the exchange is asked to stop
 *   reading (HTTP/1.1 auto-read off); below {@link #LOW_WATER} it resumes. HTTP/2 is bounded
 *   by its stream window, credited only as chunks are closed.</li>
 *   <li>Body-idle timeout: fires when nothing arrived for the idle bound while the queue
 *   is empty (the caller is waiting on the server, not the other way round).</li>
 *   <li>Failures after data: queued chunks are still delivered, then the error.</li>
 * </ul>
 *
 * <p><b>Thread-safety:</b> thread-safe; a short lock guards the queue and state, and
 * futures are completed after it is released. <b>Ownership:</b> buffers in the queue are
 * owned here and released on {@link #cancel}; a buffer handed out belongs to its chunk.
 */
final class ResponseBody {

    static final int HIGH_WATER = 256 * 1024;
    static final int LOW_WATER = 64 * 1024;

    private final Exchange exchange;
    private final Executor callbacks;
    private final Runnable onCancel;
    /** Hears, once, that the body failed before its end (not called for a caller's cancel). */
    private final java.util.function.Consumer<Throwable> onFailed;
    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<ByteBuf> queue = new ArrayDeque<>();
    private long queuedBytes;
    private boolean ended;
    private boolean cancelled;
    /** Why the library (not the caller) stopped the body; guarded by lock. */
    private SluiceHttpException stoppedWith;
    private boolean paused;
    private boolean delivered;
    private Throwable failure;
    private CompletableFuture<BodyChunk> waiter;
    private volatile long lastDataNanos = System.nanoTime();

    /**
     * @param onCancel runs once when the caller stops the body before its end (after the exchange was cancelled)
     */
    ResponseBody(Exchange exchange, Executor callbacks, Runnable onCancel) {
        this(exchange, callbacks, onCancel, t -> { });
    }

    /**
     * @param onCancel runs once when the caller stops the body before its end (after the exchange was cancelled)
     * @param onFailed runs once, on the failing thread and without a lock held, when the body fails before its end
     */
    ResponseBody(Exchange exchange, Executor callbacks, Runnable onCancel,
                 java.util.function.Consumer<Throwable> onFailed) {
        this.exchange = exchange;
        this.callbacks = callbacks;
        this.onCancel = onCancel;
        this.onFailed = onFailed;
    }

    /**
     * The body-idle watchdog's pending task; cancelled when the body ends, fails or is
     * cancelled, so a finished response is not kept reachable by the event loop's timer
     * queue for the rest of the idle bound (at thousands of requests per second that was
     * tens of megabytes of live heap). Written by the watchdog (event loop) and read by
     * whoever ends the body; a stale read at worst leaves one extra run that finds the body
     * ended and returns.
     */
    private volatile java.util.concurrent.ScheduledFuture<?> idleWatch;

    private void stopIdleWatch() {
        java.util.concurrent.ScheduledFuture<?> w = idleWatch;
        if (w != null) {
            w.cancel(false);
        }
    }

    void watchIdle(String route, Duration idle) {
        idleWatch = exchange.executor().schedule(idleCheck(route, idle), idle.toNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * Runs the body-idle check now, on the event loop: fails the body when it has been idle
     * for the bound while the caller waits, and otherwise arms the watchdog for when it could
     * be. {@code Call} uses it when its headers timer, still pending at the response head and
     * due no later than the idle bound, is kept as the first idle check (one timer per
     * request instead of two).
     */
    void checkIdleNow(String route, Duration idle) {
        idleCheck(route, idle).run();
    }

    private Runnable idleCheck(String route, Duration idle) {
        long idleNanos = idle.toNanos();
        return new Runnable() {
            @Override
            public void run() {
                long quietFor;
                boolean waitingOnServer;
                lock.lock();
                try {
                    if (ended || cancelled || failure != null) {
                        return;
                    }
                    quietFor = System.nanoTime() - lastDataNanos;
                    waitingOnServer = queue.isEmpty();
                } finally {
                    lock.unlock();
                }
                if (waitingOnServer && quietFor >= idleNanos) {
                    RequestTimeoutException t = new RequestTimeoutException(route,
                            RequestTimeoutException.Phase.BODY_IDLE, idle, null);
                    fail(t);
                    exchange.cancel(t);
                } else {
                    long next = waitingOnServer ? idleNanos - quietFor : idleNanos;
                    idleWatch = exchange.executor().schedule(this, Math.max(1, next), TimeUnit.NANOSECONDS);
                }
            }
        };
    }

    // ------------------------------------------------------------------ producer (event loop)

    void onData(ByteBuf data) {
        CompletableFuture<BodyChunk> w = null;
        boolean drop = false;
        boolean pause = false;
        lastDataNanos = System.nanoTime();
        lock.lock();
        try {
            if (cancelled || failure != null || ended) {
                drop = true;
            } else if (waiter != null) {
                w = waiter;
                waiter = null;
                delivered = true;
            } else {
                queue.add(data);
                queuedBytes += data.readableBytes();
                if (queuedBytes > HIGH_WATER && !paused) {
                    paused = pause = true;
                }
            }
        } finally {
            lock.unlock();
        }
        if (drop) {
            int n = data.readableBytes();
            data.release();
            exchange.bytesConsumed(n);
        } else if (w != null) {
            completeAsync(w, new PooledChunk(data, exchange));
        } else if (pause) {
            exchange.readingWanted(false);
        }
    }

    void onEnd() {
        CompletableFuture<BodyChunk> w = null;
        lock.lock();
        try {
            if (ended || failure != null) {
                return;
            }
            ended = true;
            if (queue.isEmpty()) {
                w = waiter;
                waiter = null;
            }
        } finally {
            lock.unlock();
        }
        stopIdleWatch();
        if (w != null) {
            completeAsync(w, null);
        }
    }

    /** Fails the body; queued chunks are still handed out first. Returns false when it had ended already. */
    boolean fail(Throwable t) {
        CompletableFuture<BodyChunk> w = null;
        lock.lock();
        try {
            if (ended || failure != null) {
                return false;
            }
            failure = t;
            if (queue.isEmpty()) {
                w = waiter;
                waiter = null;
            }
        } finally {
            lock.unlock();
        }
        stopIdleWatch();
        onFailed.accept(t);
        if (w != null) {
            CompletableFuture<BodyChunk> fw = w;
            callbacks.execute(() -> fw.completeExceptionally(t));
        }
        return true;
    }

    // ------------------------------------------------------------------ consumer

    /** The next chunk, null at the end. One outstanding call at a time. */
    CompletableFuture<BodyChunk> next() {
        ByteBuf b;
        boolean resume = false;
        lock.lock();
        try {
            if (cancelled) {
                return CompletableFuture.failedFuture(new IllegalStateException("response closed: the body was cancelled"));
            }
            if (waiter != null) {
                return CompletableFuture.failedFuture(new IllegalStateException(
                        "a body read is already outstanding: reads are sequential"));
            }
            b = queue.poll();
            if (b == null) {
                if (failure != null) {
                    return CompletableFuture.failedFuture(failure);
                }
                if (ended) {
                    return CompletableFuture.completedFuture(null);
                }
                waiter = new CompletableFuture<>();
                return waiter;
            }
            delivered = true;
            queuedBytes -= b.readableBytes();
            if (paused && queuedBytes < LOW_WATER) {
                paused = false;
                resume = true;
            }
        } finally {
            lock.unlock();
        }
        if (resume) {
            exchange.readingWanted(true);
        }
        return CompletableFuture.completedFuture(new PooledChunk(b, exchange));
    }

    /** Whether any body byte reached the caller (status retries and replays stop there). */
    boolean delivered() {
        lock.lock();
        try {
            return delivered;
        } finally {
            lock.unlock();
        }
    }

    /** Whether the caller stopped reading (closed the response, cancelled its subscription), not the library. */
    boolean cancelledByCaller() {
        lock.lock();
        try {
            return cancelled && stoppedWith == null;
        } finally {
            lock.unlock();
        }
    }

    /** The failure the library stopped the body with (a body or SSE line over its limit), or null. */
    SluiceHttpException stoppedWith() {
        lock.lock();
        try {
            return stoppedWith;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The library stops the body because of {@code failure} (the aggregated body or an SSE line over its limit): as
     * {@link #cancel}, but the call failed; the caller did not stop it.
     */
    void stopWith(SluiceHttpException failure) {
        lock.lock();
        try {
            if (stoppedWith == null && !cancelled) {
                stoppedWith = failure;
            }
        } finally {
            lock.unlock();
        }
        cancel(failure);
    }

    /**
     * The caller stops reading: queued buffers are released and, when the body had not
     * ended, the exchange is cancelled (HTTP/2 RST_STREAM, HTTP/1.1 close).
     */
    void cancel(Throwable reason) {
        List<ByteBuf> drop;
        CompletableFuture<BodyChunk> w;
        boolean stopExchange;
        lock.lock();
        try {
            if (cancelled) {
                return;
            }
            cancelled = true;
            stopExchange = !ended && failure == null;
            drop = new ArrayList<>(queue);
            queue.clear();
            queuedBytes = 0;
            w = waiter;
            waiter = null;
        } finally {
            lock.unlock();
        }
        stopIdleWatch();
        int bytes = 0;
        for (ByteBuf b : drop) {
            bytes += b.readableBytes();
            b.release();
        }
        exchange.bytesConsumed(bytes);
        if (stopExchange) {
            exchange.cancel(reason);
            onCancel.run();
        }
        if (w != null) {
            callbacks.execute(() -> w.completeExceptionally(reason));
        }
    }

    private void completeAsync(CompletableFuture<BodyChunk> w, BodyChunk c) {
        try {
            callbacks.execute(() -> {
                if (!w.complete(c) && c != null) {
                    c.close(); // the waiter was cancelled by its owner: nobody will close the chunk
                }
            });
        } catch (RuntimeException rejected) {
            if (c != null) {
                c.close();
            }
            w.completeExceptionally(rejected);
        }
    }
}

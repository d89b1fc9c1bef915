package io.sluice.websocket;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.sluice.http.ClientClosedException;
import io.sluice.pool.Lease;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Exclusive use of one pooled WebSocket connection until {@link #close()} (back to the
 * pool, session and buffered messages kept for the next lease) or {@link #invalidate()}
 * (closed with a close handshake).
 *
 * <p>Receiving is a pull API: {@link #receive()} returns the next complete message. Messages
 * are buffered per connection, so nothing is lost between calls or between leases: a message
 * that arrives while no one waits, or while the connection is idle in the pool, is returned
 * by the next {@code receive()} of whoever holds the connection then. While leased, a full
 * buffer pauses reading (TCP backpressure) until {@code receive()} catches up.
 *
 * <p>Failures are {@link io.sluice.http.SluiceHttpException}s: after the connection failed
 * (peer Close, I/O error, {@link io.sluice.http.LimitExceededException} for an oversized
 * message, ...) {@code receive()} still returns the messages received before, then fails with
 * that error; sends fail with it at once.
 *
 * <p><b>Thread-safety:</b> thread-safe; messages from concurrent {@code send} calls are
 * written whole, in the order the calls reach the channel. Futures complete on the pool's
 * callback executor, never on an event loop.
 *
 * <p><b>Ownership:</b> the holder must close the lease (try-with-resources); the connection
 * stays owned by the pool. Closing twice is harmless. After the lease ends, {@code send} and
 * {@code receive} fail with {@link ClientClosedException}, and receives still waiting fail
 * the same way.
 */
public final class WebSocketLease implements AutoCloseable {

    private final Lease<WebSocketConnection> lease;
    private final WebSocketConnection connection;
    private final String route;
    private final AtomicBoolean ended = new AtomicBoolean();

    WebSocketLease(Lease<WebSocketConnection> lease, String route) {
        this.lease = lease;
        this.connection = lease.connection();
        this.route = route;
        connection.leaseStarted();
    }

    /** Sends one text message (one frame). The future completes when it was written to the socket. */
    public CompletableFuture<Void> sendText(String text) {
        Objects.requireNonNull(text, "text");
        if (ended.get()) {
            return endedFailure();
        }
        return connection.send(new TextWebSocketFrame(text));
    }

    /**
     * Sends one binary message (one frame): the remaining bytes of {@code data}, copied, so the
     * caller may reuse the buffer at once; its position is not changed.
     */
    public CompletableFuture<Void> sendBinary(ByteBuffer data) {
        Objects.requireNonNull(data, "data");
        if (ended.get()) {
            return endedFailure();
        }
        return connection.send(new BinaryWebSocketFrame(Unpooled.copiedBuffer(data.duplicate())));
    }

    /**
     * The next complete message. Already complete when one is buffered. Cancelling the future,
     * or timing it out with {@code orTimeout}, gives up the wait without losing a message: a
     * message already assigned to it can no longer be cancelled away.
     */
    public CompletableFuture<WebSocketMessage> receive() {
        if (ended.get()) {
            return endedFailure();
        }
        return connection.receive();
    }

    /**
     * Sends a Ping and completes with the round trip when its Pong arrives (RFC 6455 §5.5.2: the
     * peer must answer). A Pong that does not come within the pool's ping timeout fails the
     * future with {@link io.sluice.http.ConnectionLostException} and breaks the connection, which
     * the pool then drops. Pings on one connection run one at a time: a second call while one is
     * outstanding shares its Pong and reports the time from its own call. Completes on the
     * pool's callback executor.
     */
    public CompletableFuture<java.time.Duration> ping() {
        if (ended.get()) {
            return endedFailure();
        }
        long start = System.nanoTime();
        return connection.ping().thenApply(v -> java.time.Duration.ofNanos(System.nanoTime() - start));
    }

    /** Received messages not yet taken by {@link #receive()}. */
    public int bufferedMessages() {
        return connection.bufferedMessages();
    }

    /** The leased connection's URL, creation time, counters and subprotocol. */
    public WebSocketConnection connection() {
        return connection;
    }

    /** Whether the connection was opened for this lease rather than reused. */
    public boolean freshConnection() {
        return lease.freshConnection();
    }

    /** Whether this lease has ended. */
    public boolean isClosed() {
        return ended.get();
    }

    /** Returns the connection to the pool; a broken one is dropped there. Idempotent. */
    @Override
    public void close() {
        if (ended.compareAndSet(false, true)) {
            connection.leaseEnded();
        }
        lease.close(); // a second call is logged at debug by the pool and ignored
    }

    /** Ends the lease and drops the connection (close handshake); use it after a session went wrong. */
    public void invalidate() {
        if (ended.compareAndSet(false, true)) {
            connection.leaseEnded();
        }
        lease.invalidate();
    }

    private <T> CompletableFuture<T> endedFailure() {
        return CompletableFuture.failedFuture(new ClientClosedException(route,
                "this WebSocket lease was already closed; acquire a new one"));
    }

    @Override
    public String toString() {
        return "WebSocketLease[" + connection + (ended.get() ? ", ended" : "") + "]";
    }
}

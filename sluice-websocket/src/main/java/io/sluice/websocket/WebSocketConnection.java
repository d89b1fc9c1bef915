package io.sluice.websocket;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.concurrent.ScheduledFuture;
import io.sluice.http.ClientClosedException;
import io.sluice.http.ConnectionLostException;
import io.sluice.http.LimitExceededException;
import io.sluice.http.ProtocolException;
import io.sluice.http.SluiceHttpException;
import io.sluice.http.spi.Redaction;
import java.net.URI;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One open WebSocket connection of a {@link WebSocketPool}: its channel, the messages
 * received and not yet taken, its liveness ping and its close handshake. Applications see it
 * through {@link WebSocketLease#connection()} and may read its public accessors (URL,
 * creation time, message counts); sending and receiving go through the lease.
 *
 * <p><b>Failure:</b> the first failure (peer Close, I/O error, protocol error, message over
 * the size limit, missing pong, pool close) is terminal: it is kept, pending and later
 * receives fail with it once the buffered messages are taken, sends fail with it,
 * {@link #isBroken()} turns true and the pool is told at once (the {@code ConnectionEvents} it gave with the connect),
 * so the connection leaves the pool instead of waiting for the next checkout.
 *
 * <p><b>Thread-safety:</b> thread-safe. Channel events arrive on the channel's event loop;
 * fields touched only there are marked as such; everything read from other threads is
 * volatile or atomic. Futures handed to callers are completed through the completion
 * executor, never on the event loop.
 *
 * <p><b>Ownership:</b> owned by the pool, which closes it through its manager; the
 * connection owns its channel and closes it after the close handshake. Outbound frames are
 * released by Netty once written (or on a failed write); inbound frames are released by
 * {@link FrameHandler} after their content was copied.
 */
public final class WebSocketConnection {

    private static final Logger LOG = LoggerFactory.getLogger(WebSocketConnection.class);
    private static final AtomicLong IDS = new AtomicLong();

    private final long id = IDS.incrementAndGet();
    private final WebSocketSettings settings;
    private final Channel channel;
    private final String subprotocol;
    private final Instant createdAt = Instant.now();
    private final Executor completer;
    private final Consumer<WebSocketConnection> onBroken;
    private final Inbox inbox;

    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong pongs = new AtomicLong();
    private final AtomicReference<SluiceHttpException> failure = new AtomicReference<>();
    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile boolean leased;
    /** Reading is paused because a lease's inbox is full; set on the event loop, read by receivers. */
    private volatile boolean paused;

    // Event loop only:
    private boolean closeSent;
    private CompletableFuture<Void> ping;
    private ScheduledFuture<?> pingTimer;
    private long pingNonce;

    WebSocketConnection(WebSocketSettings settings, Channel channel, String subprotocol, Executor completer,
                        Consumer<WebSocketConnection> onBroken) {
        this.settings = settings;
        this.channel = channel;
        this.subprotocol = subprotocol == null || subprotocol.isEmpty() ? null : subprotocol;
        this.completer = completer;
        this.onBroken = onBroken;
        this.inbox = new Inbox(completer);
    }

    // ------------------------------------------------------------------ public, read-only

    /** A process-wide unique number, for logs and for telling connections apart. */
    public long id() {
        return id;
    }

    /** The URL the connection was opened to. */
    public URI uri() {
        return settings.uri();
    }

    /** When the handshake completed. */
    public Instant createdAt() {
        return createdAt;
    }

    /** The subprotocol the server chose, or null when none was offered or chosen. */
    public String subprotocol() {
        return subprotocol;
    }

    /** Messages written to the peer successfully (outbound). */
    public long messagesSent() {
        return sent.get();
    }

    /** Complete messages received from the peer, whether taken yet or not. */
    public long messagesReceived() {
        return received.get();
    }

    /** Pongs received: answers to validation pings and any unsolicited ones. */
    public long pongsReceived() {
        return pongs.get();
    }

    /** Received messages waiting for a {@code receive()}. */
    public int bufferedMessages() {
        return inbox.size();
    }

    /** Whether the connection can no longer be used: closed, failed, or closed by the peer. Never does I/O. */
    public boolean isBroken() {
        return failure.get() != null || !channel.isActive();
    }

    /** URL (key-like query parameters redacted), id, state and counts; never a header. */
    @Override
    public String toString() {
        return "WebSocketConnection#" + id + "[" + Redaction.redactUri(settings.uri()) + ", "
                + (isBroken() ? "broken" : leased ? "leased" : "idle") + ", sent=" + sent.get() + ", received="
                + received.get() + ", buffered=" + inbox.size() + "]";
    }

    // ------------------------------------------------------------------ lease side (any thread)

    CompletableFuture<Void> send(WebSocketFrame frame) {
        SluiceHttpException f = failure.get();
        if (f != null) {
            frame.release();
            return CompletableFuture.failedFuture(f);
        }
        CompletableFuture<Void> out = new CompletableFuture<>();
        channel.writeAndFlush(frame).addListener((ChannelFuture w) -> {
            if (w.isSuccess()) {
                sent.incrementAndGet();
                complete(() -> out.complete(null));
            } else {
                SluiceHttpException err = failure.get() != null ? failure.get()
                        : new ConnectionLostException(settings.route(), "WebSocket send failed: " + w.cause(), w.cause());
                complete(() -> out.completeExceptionally(err));
            }
        });
        return out;
    }

    CompletableFuture<WebSocketMessage> receive() {
        CompletableFuture<WebSocketMessage> next = inbox.take();
        if (paused && inbox.size() <= settings.maxBufferedMessages() / 2) {
            onLoop(this::resumeIfDrained);
        }
        return next;
    }

    void leaseStarted() {
        leased = true;
    }

    /**
     * The lease ended: its waiting receives fail, buffered messages stay for the next lease.
     * A full buffer cannot stay: reading is paused, so the pool would hold a connection whose
     * peer close goes unseen; it is dropped instead.
     */
    void leaseEnded() {
        leased = false;
        inbox.failWaiting(new ClientClosedException(settings.route(), "the lease ended while receive() was waiting"));
        if (inbox.size() >= settings.maxBufferedMessages()) {
            fail(new ConnectionLostException(settings.route(), "lease returned with " + inbox.size()
                    + " unread messages (the buffer limit); the connection is dropped", null));
            close();
        } else if (paused) {
            // Idle connections always read, so the pool sees a peer close; the idle bound applies from here.
            onLoop(() -> {
                if (paused) {
                    paused = false;
                    channel.config().setAutoRead(true);
                }
            });
        }
    }

    // ------------------------------------------------------------------ pool side

    /**
     * A ping that completes when its pong arrives, or fails (and breaks the connection) after pingTimeout.
     * Completes on the callback executor, never on the event loop, and only after the connection is
     * marked broken: a caller that sees the failure and asks the pool again must not get this connection.
     */
    CompletableFuture<Void> ping() {
        CompletableFuture<Void> result = new CompletableFuture<>();
        if (!onLoop(() -> startPing(result))) {
            result.completeExceptionally(new ConnectionLostException(settings.route(), "event loop shut down", null));
        }
        CompletableFuture<Void> out = new CompletableFuture<>();
        result.whenComplete((v, e) -> complete(() -> {
            if (e != null) {
                out.completeExceptionally(e);
            } else {
                out.complete(null);
            }
        }));
        return out;
    }

    private void startPing(CompletableFuture<Void> result) {
        SluiceHttpException f = failure.get();
        if (f != null) {
            result.completeExceptionally(f);
            return;
        }
        if (ping != null) { // one probe at a time; a second caller shares the outcome
            ping.whenComplete((v, e) -> {
                if (e != null) {
                    result.completeExceptionally(e);
                } else {
                    result.complete(null);
                }
            });
            return;
        }
        ping = result;
        long nonce = ++pingNonce;
        long timeoutMs = settings.pingTimeout().toMillis();
        pingTimer = channel.eventLoop().schedule(() -> {
            if (ping == result) {
                SluiceHttpException err = new ConnectionLostException(settings.route(),
                        "no pong within " + timeoutMs + " ms of a validation ping", null);
                fail(err); // broken first (failPing then fails this ping): nobody may be handed it after seeing the failure
                if (ping == result) {
                    ping = null;
                    result.completeExceptionally(err); // failed before: fail() found the failure already set
                }
                close();
            }
        }, timeoutMs, TimeUnit.MILLISECONDS);
        ByteBuf payload = channel.alloc().buffer(8).writeLong(nonce);
        channel.writeAndFlush(new PingWebSocketFrame(payload)).addListener((ChannelFuture w) -> {
            if (!w.isSuccess() && ping == result) {
                SluiceHttpException err = failure.get() != null ? failure.get()
                        : new ConnectionLostException(settings.route(), "ping could not be sent: " + w.cause(), w.cause());
                fail(err); // broken first, as above
                if (ping == result) {
                    ping = null;
                    pingTimer.cancel(false);
                    result.completeExceptionally(err);
                }
            }
        });
    }

    /**
     * Starts the close handshake: sends Close 1000, waits up to closeTimeout for the peer's
     * Close, then closes the channel. Idempotent; the first call also fails the connection with
     * {@link ClientClosedException} (pending receives complete).
     */
    void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        fail(new ClientClosedException(settings.route(), "the WebSocket connection was closed by its pool"));
        if (!onLoop(() -> startClose(WebSocketCloseStatus.NORMAL_CLOSURE))) {
            channel.close();
        }
    }

    /** Completes when the channel is closed. */
    ChannelFuture closeFuture() {
        return channel.closeFuture();
    }

    // ------------------------------------------------------------------ event loop side (FrameHandler)

    void onMessage(WebSocketMessage m) {
        received.incrementAndGet();
        int size = inbox.offer(m);
        if (size < settings.maxBufferedMessages()) {
            return;
        }
        if (leased) {
            // Backpressure rather than loss: stop reading until receive() drains half the buffer.
            paused = true;
            channel.config().setAutoRead(false);
        } else {
            fail(new ConnectionLostException(settings.route(), "idle connection buffered " + size
                    + " unsolicited messages (the limit); the connection is dropped", null));
            close();
        }
    }

    void onPong(ByteBuf content) {
        pongs.incrementAndGet();
        CompletableFuture<Void> p = ping;
        if (p != null && content.readableBytes() == 8 && content.getLong(content.readerIndex()) == pingNonce) {
            ping = null;
            pingTimer.cancel(false);
            p.complete(null); // pool code continues here; it does not block
        }
        // any other pong is an unsolicited heartbeat (RFC 6455 §5.5.3): ignored
    }

    void onPeerClose(int code, String reason) {
        SluiceHttpException err = new ConnectionLostException(settings.route(), "the peer closed the WebSocket with "
                + code + (reason == null || reason.isEmpty() ? "" : " (" + truncate(reason) + ")"), null);
        fail(err);
        if (closeSent) {
            channel.close(); // the handshake we started is complete
        } else {
            closeSent = true;
            // echo the status as RFC 6455 §5.5.1 asks, then close: the server has nothing more to say
            int echo = code >= 1000 && code != 1005 && code != 1006 && code != 1015 ? code : 1000;
            channel.writeAndFlush(new CloseWebSocketFrame(echo, null)).addListener(f -> channel.close());
        }
    }

    void onFailure(Throwable cause) {
        SluiceHttpException err = WebSocketErrors.connectionFailure(settings.route(), cause, settings.maxMessageSize());
        LOG.debug("{}: WebSocket #{} failed: {}", settings.route(), id, err.getMessage());
        fail(err);
        if (cause instanceof CorruptedWebSocketFrameException) {
            closeSent = true; // Netty's frame decoder has already sent Close (1002/1009) and closes the channel
            channel.close();
        } else if (err instanceof LimitExceededException || cause instanceof TooLongFrameException) {
            startClose(WebSocketCloseStatus.MESSAGE_TOO_BIG);
        } else if (err instanceof ProtocolException) {
            startClose(WebSocketCloseStatus.PROTOCOL_ERROR);
        } else {
            channel.close();
        }
    }

    void onInactive() {
        fail(new ConnectionLostException(settings.route(), "the WebSocket connection was closed"
                + (closeSent ? "" : " by the peer without a Close frame"), null));
    }

    // ------------------------------------------------------------------ internals

    /** Records the first failure; tells receivers, a pending ping and the pool. Later calls do nothing. */
    private void fail(SluiceHttpException err) {
        if (!failure.compareAndSet(null, err)) {
            return;
        }
        inbox.fail(err);
        if (channel.eventLoop().inEventLoop()) {
            failPing(err);
        } else {
            onLoop(() -> failPing(err));
        }
        if (!closing.get()) {
            onBroken.accept(this); // the pool retires it now instead of at the next checkout
        }
    }

    private void failPing(SluiceHttpException err) {
        CompletableFuture<Void> p = ping;
        if (p != null) {
            ping = null;
            pingTimer.cancel(false);
            p.completeExceptionally(err);
        }
    }

    private void startClose(WebSocketCloseStatus status) {
        if (!channel.isActive()) {
            channel.close();
            return;
        }
        if (!closeSent) {
            closeSent = true;
            channel.writeAndFlush(new CloseWebSocketFrame(status)).addListener((ChannelFuture f) -> {
                if (!f.isSuccess()) {
                    channel.close();
                }
            });
        }
        ScheduledFuture<?> t = channel.eventLoop().schedule(() -> {
            channel.close();
        }, settings.closeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        channel.closeFuture().addListener(f -> t.cancel(false));
    }

    private void resumeIfDrained() {
        if (paused && inbox.size() <= settings.maxBufferedMessages() / 2) {
            paused = false;
            channel.config().setAutoRead(true);
        }
    }

    /** Runs the task on the channel's event loop; false when the loop no longer accepts tasks. */
    private boolean onLoop(Runnable task) {
        try {
            channel.eventLoop().execute(task);
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    private void complete(Runnable completion) {
        try {
            completer.execute(completion);
        } catch (RejectedExecutionException e) {
            completion.run(); // the executor is shut down: completing here beats never completing
        }
    }

    private static String truncate(String s) {
        return s.length() <= 123 ? s : s.substring(0, 123) + "...";
    }
}

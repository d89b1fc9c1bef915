package io.sluice.websocket;

import io.sluice.pool.ConnectionManager;
import io.sluice.pool.Pool;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The pool's SPI for WebSocket connections to one URL: {@code connect} opens and upgrades a
 * connection, {@code validate} is a ping answered by a pong within the ping timeout,
 * {@code hasBroken} reads the connection's state without I/O, {@code capacity} is 1 (a lease
 * is one exclusive connection: WebSocket messages of two callers would interleave), and
 * {@code close} runs the close handshake.
 *
 * <p>It also tells its pool about connections that break while open (peer Close, I/O error,
 * missing pong), so they leave the pool at once, and keeps the set of live connections so
 * that {@link WebSocketPool#close()} can close leased ones as well.
 *
 * <p><b>Thread-safety:</b> thread-safe. <b>Ownership:</b> connections belong to the pool,
 * which closes each through {@link #close}; the connector is borrowed.
 */
final class WebSocketConnectionManager implements ConnectionManager<WebSocketConnection> {

    private final Set<WebSocketConnection> live = ConcurrentHashMap.newKeySet();
    private WebSocketConnector connector;
    private volatile Pool<WebSocketConnection> pool;

    /** Set once, before the pool is built (the connector needs {@link #connectionBroke} first). */
    void connector(WebSocketConnector connector) {
        this.connector = connector;
    }

    /** Set once, right after the pool is built. */
    void attach(Pool<WebSocketConnection> pool) {
        this.pool = pool;
    }

    /** Called by a connection on its first failure (any thread). */
    void connectionBroke(WebSocketConnection connection) {
        Pool<WebSocketConnection> p = pool;
        if (p != null) {
            p.connectionChanged(connection);
        }
    }

    /** The connections whose channel is still open, leased or not. */
    List<WebSocketConnection> liveConnections() {
        return List.copyOf(live);
    }

    @Override
    public CompletionStage<WebSocketConnection> connect() {
        return connector.connect().thenApply(c -> {
            live.add(c);
            c.closeFuture().addListener(f -> live.remove(c));
            return c;
        });
    }

    @Override
    public CompletionStage<Void> validate(WebSocketConnection connection) {
        return connection.ping();
    }

    @Override
    public boolean hasBroken(WebSocketConnection connection) {
        return connection.isBroken();
    }

    @Override
    public int capacity(WebSocketConnection connection) {
        return 1;
    }

    @Override
    public void close(WebSocketConnection connection) {
        connection.close();
    }
}

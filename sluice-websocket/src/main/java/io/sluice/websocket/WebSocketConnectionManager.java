package io.sluice.websocket;

import io.sluice.pool.ConnectionEvents;
import io.sluice.pool.ConnectionManager;
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
 * <p>It also tells its pool, through the {@code ConnectionEvents} the pool hands over with each
 * connect, about connections that break while open (peer Close, I/O error,
 * missing pong), so they leave the pool at once, and keeps the set of live connections so
 * that {@link WebSocketPool#close()} can close leased ones as well.
 *
 * <p><b>Thread-safety:</b> thread-safe. <b>Ownership:</b> connections belong to the pool,
 * which closes each through {@link #close}; the connector is borrowed.
 */
final class WebSocketConnectionManager implements ConnectionManager<WebSocketConnection> {

    private final Set<WebSocketConnection> live = ConcurrentHashMap.newKeySet();
    private final WebSocketConnector connector;

    WebSocketConnectionManager(WebSocketConnector connector) {
        this.connector = connector;
    }

    /** The connections whose channel is still open, leased or not. */
    List<WebSocketConnection> liveConnections() {
        return List.copyOf(live);
    }

    @Override
    public CompletionStage<WebSocketConnection> connect(ConnectionEvents<WebSocketConnection> events) {
        // a connection tells the pool on its first failure (any thread), through the events the pool gave
        return connector.connect(events::changed).thenApply(c -> {
            live.add(c);
            c.closeFuture().addListener(f -> live.remove(c));
            return c;
        });
    }

    /**
     * True: the connector's handshake timer is each attempt's one deadline (DNS, TCP, TLS and the
     * upgrade), so the pool arms none; the pool's connectionTimeout bounds only a caller's wait.
     */
    @Override
    public boolean boundsConnect() {
        return true;
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

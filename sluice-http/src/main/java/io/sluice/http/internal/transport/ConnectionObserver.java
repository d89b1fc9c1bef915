package io.sluice.http.internal.transport;

/**
 * Told when a connection's capacity or health changed (SETTINGS, GOAWAY, peer close, PING
 * timeout), so that the pool retires it or serves waiters at once.
 *
 * <p><b>Thread-safety:</b> implementations must be thread-safe; called from event loops
 * and the scheduler, never while a connection lock is held.
 */
@FunctionalInterface
public interface ConnectionObserver {
    void connectionChanged(HttpConnection connection);
}

package io.sluice.http.internal.transport;

import io.netty.util.concurrent.EventExecutor;

/**
 * The caller's handle on one running exchange.
 *
 * <p><b>Thread-safety:</b> every method may be called from any thread; work is moved to
 * the connection's event loop.
 */
public interface Exchange {

    /**
     * Stops the exchange: HTTP/2 resets the stream with CANCEL, HTTP/1.1 closes the
     * connection (a response not read to its end cannot be reused). The listener gets
     * {@code onFailure(reason)} unless it already got its terminal call.
     */
    void cancel(Throwable reason);

    /** The caller is done with {@code bytes} body bytes: HTTP/2 returns them to the flow-control window. */
    void bytesConsumed(int bytes);

    /** Whether more body should be read now (backpressure): HTTP/1.1 toggles the channel's auto-read; HTTP/2 relies on its window. */
    void readingWanted(boolean wanted);

    /** Whether the connection had served an exchange before this one (stale-connection replay rule). */
    boolean connectionReused();

    /** The event loop the listener runs on. */
    EventExecutor executor();
}

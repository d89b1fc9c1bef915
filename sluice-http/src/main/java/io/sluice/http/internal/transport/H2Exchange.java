package io.sluice.http.internal.transport;

import io.netty.util.concurrent.EventExecutor;
import io.sluice.http.HttpRequest;

/**
 * One request/response exchange on an {@link Http2Connection}: one stream. The connection drives it
 * (sends its request, routes its frames, ends it exactly once); this type holds its state and
 * takes the caller's cancel and window credit.
 *
 * <p><b>Thread-safety:</b> fields are confined to the connection's event loop, except
 * {@link #cancelReason}, which {@link #cancel} writes from any thread. <b>Ownership:</b> owned by its
 * connection; the caller holds it as an {@link Exchange} handle.
 */
final class H2Exchange implements Exchange {
    private final Http2Connection connection;
    final HttpRequest request;
    final ExchangeListener listener;
    final boolean reused;
    int streamId;
    boolean headersReceived;
    /** An interim (1xx) head arrived: the server has the request, though no final head yet. */
    boolean interimReceived;
    boolean dataSeen;
    boolean remoteEnded;
    /** The last request frame reached the socket (set by its write promise, on the event loop). */
    boolean requestWritten;
    boolean done;
    Throwable failure;
    /** Set by {@link #cancel} from any thread, before its task is queued; read by the connection's {@code begin}. */
    volatile Throwable cancelReason;
    RequestBodyWriter bodyWriter;

    H2Exchange(Http2Connection connection, HttpRequest request, ExchangeListener listener, boolean reused) {
        this.connection = connection;
        this.request = request;
        this.listener = listener;
        this.reused = reused;
    }

    @Override
    public void cancel(Throwable reason) {
        cancelReason = reason; // seen by begin() if it has not run yet: the request then never leaves
        connection.cancel(this, reason);
    }

    @Override
    public void bytesConsumed(int bytes) {
        if (bytes > 0) {
            connection.consumed(this, bytes);
        }
    }

    @Override
    public void readingWanted(boolean wanted) {
        // HTTP/2 back-pressure is the stream window: bytes are credited only when consumed.
    }

    @Override
    public boolean connectionReused() {
        return reused;
    }

    @Override
    public EventExecutor executor() {
        return connection.eventLoop();
    }
}

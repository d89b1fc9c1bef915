package io.sluice.testkit.adversary;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one accepted connection of {@link AdversaryHttp1Server}: reads a request head, records
 * it, runs the request's script, reads whatever body the script left unread, and waits for the
 * next request, closing the connection after the server's idle timeout if one is set. After the
 * script half-closed the connection it keeps recording requests but answers none.
 *
 * <p>Runs on one pool thread; ends at EOF, on an I/O error, or when the server closes the socket.
 */
final class Http1Connection implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Http1Connection.class);
    private final AdversaryHttp1Server server;
    private final Socket socket;
    private final int number;
    private final Duration idleTimeout;

    Http1Connection(AdversaryHttp1Server server, Socket socket, int number, Duration idleTimeout) {
        this.server = server;
        this.socket = socket;
        this.number = number;
        this.idleTimeout = idleTimeout;
    }

    @Override
    public void run() {
        try (Socket s = socket) {
            Http1RequestReader reader = new Http1RequestReader(new BufferedInputStream(s.getInputStream()));
            OutputStream out = new BufferedOutputStream(s.getOutputStream());
            boolean outputClosed = false;
            for (;;) {
                String head = waitForHead(s, reader, outputClosed);
                if (head == null) {
                    return;
                }
                Http1RequestRecord request = server.record(number, head, outputClosed);
                if (outputClosed) {
                    reader.readBody(request);
                    continue;
                }
                Http1Exchange exchange = new Http1Exchange(s, out, reader, request);
                for (Http1Step step : server.scriptFor(request.requestNumber()).steps()) {
                    step.action().run(exchange);
                    if (exchange.closed()) {
                        return;
                    }
                }
                outputClosed = exchange.outputClosed();
                reader.readBody(request);
            }
        } catch (IOException e) {
            log.debug("adversary http/1.1: connection {} ended: {}", number, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The next head, or null at EOF or when the idle timeout closes the connection. */
    private String waitForHead(Socket s, Http1RequestReader reader, boolean outputClosed) throws IOException {
        boolean idleBound = idleTimeout != null && !outputClosed;
        s.setSoTimeout(idleBound ? (int) Math.max(1, idleTimeout.toMillis()) : 0);
        try {
            return reader.readHead();
        } catch (SocketTimeoutException e) {
            return null; // idle too long: close (FIN), as a keep-alive timeout does
        } finally {
            if (!s.isClosed()) {
                s.setSoTimeout(0);
            }
        }
    }
}

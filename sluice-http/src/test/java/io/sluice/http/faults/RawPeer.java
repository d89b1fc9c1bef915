package io.sluice.http.faults;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A hand-written peer on a loopback {@link ServerSocket}: each accepted connection runs
 * {@code script} on its own daemon thread. For the faults the mock provider cannot produce
 * (TCP reset, garbage instead of TLS, invalid HTTP/2 frames). {@link #close()} closes the
 * listener and every accepted socket.
 */
final class RawPeer implements AutoCloseable {

    /** What the peer does with one connection; exceptions end the connection quietly. */
    interface Script {
        void run(Socket s, int connectionNumber) throws Exception;
    }

    private final ServerSocket server;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    final AtomicInteger connections = new AtomicInteger();

    RawPeer(Script script) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        Thread acceptor = new Thread(() -> {
            try {
                while (!server.isClosed()) {
                    Socket s = server.accept();
                    sockets.add(s);
                    int n = connections.incrementAndGet();
                    Thread t = new Thread(() -> {
                        try {
                            script.run(s, n);
                        } catch (Exception ignored) {
                            // the client went away, or the script ended the connection
                        }
                    }, "raw-peer-conn-" + n);
                    t.setDaemon(true);
                    t.start();
                }
            } catch (IOException ignored) {
                // closed
            }
        }, "raw-peer-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** Reads one HTTP/1.1 request head (up to CRLFCRLF); false at EOF. */
    static boolean readRequestHead(InputStream in) throws IOException {
        int state = 0;
        for (int b; (b = in.read()) != -1; ) {
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
            if (state == 4) {
                return true;
            }
        }
        return false;
    }

    /** Closes with a TCP RST instead of a FIN. */
    static void reset(Socket s) throws IOException {
        s.setSoLinger(true, 0);
        s.close();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // already gone
            }
        }
    }
}

package io.sluice.testkit.adversary;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A loopback peer that accepts TCP connections and never sends a byte: it reads and discards what
 * the client sends (a TLS ClientHello, an HTTP/2 preface, an upgrade request) until the client
 * closes. For the connect path's timeouts: a TLS handshake, preface or upgrade that never
 * completes. It counts connections, bytes received and connections the client closed, so a test
 * can check that an abandoned attempt's socket really was closed.
 *
 * <pre>{@code
 * try (SilentPeer peer = SilentPeer.start()) {
 *     URI uri = peer.uri("https", "/v1/chat/completions");
 *     ... // the connect attempt times out
 *     assertThat(peer.awaitClosedByClient(1, Duration.ofSeconds(10))).isTrue();
 * }
 * }</pre>
 *
 * <p>Thread-safe: every method may be called from any thread. Owns the listening socket, the
 * accepted sockets and its daemon threads (one acceptor, one reader per connection);
 * {@link #close()} releases them all and is idempotent.
 */
public final class SilentPeer implements AutoCloseable {

    private final ServerSocket listener;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final AtomicLong bytesReceived = new AtomicLong();
    /** Guarded by {@code this}; notified on every change. */
    private int connections;
    /** Guarded by {@code this}: connections whose client closed (the peer read end of stream). */
    private int closedByClient;

    private SilentPeer() throws IOException {
        listener = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        Thread acceptor = new Thread(this::acceptLoop, "silent-peer-accept-" + listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Listens on an ephemeral loopback port. */
    public static SilentPeer start() throws IOException {
        return new SilentPeer();
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** {@code scheme://127.0.0.1:port/path}, e.g. {@code uri("wss", "/v1/realtime")}. */
    public URI uri(String scheme, String path) {
        return URI.create(scheme + "://127.0.0.1:" + port() + path);
    }

    public synchronized int connections() {
        return connections;
    }

    /** Connections the client closed (the peer read end of stream); a reset counts as well. */
    public synchronized int closedByClient() {
        return closedByClient;
    }

    /** Bytes the clients sent, over every connection. */
    public long bytesReceived() {
        return bytesReceived.get();
    }

    /** Waits until at least {@code n} connections were closed by the client; false on timeout. */
    public synchronized boolean awaitClosedByClient(int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (closedByClient < n) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            Socket s;
            try {
                s = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            sockets.add(s);
            synchronized (this) {
                connections++;
                notifyAll();
            }
            Thread reader = new Thread(() -> drain(s), "silent-peer-conn-" + s.getPort());
            reader.setDaemon(true);
            reader.start();
        }
    }

    private void drain(Socket s) {
        boolean byClient = false;
        try (s) {
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            for (int r; (r = in.read(buf)) >= 0; ) {
                bytesReceived.addAndGet(r);
            }
            byClient = true;
        } catch (IOException e) {
            byClient = !listener.isClosed(); // a reset by the client; not our own close()
        } finally {
            sockets.remove(s);
            if (byClient) {
                synchronized (this) {
                    closedByClient++;
                    notifyAll();
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }
}

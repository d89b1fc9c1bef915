package io.sluice.testkit.adversary;

import io.sluice.testkit.SelfSignedTls;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;

/**
 * An HTTP/1.1 server on blocking sockets whose answer to each request is a script of raw bytes,
 * pauses, body reads and closes ({@link Http1Script}), chosen by the request's arrival number
 * (1-based, across connections). It can answer before reading the request body, send a
 * Content-Length it never honours, half-close, close right after answering, or reset. It records
 * every request (raw head, body, connection number) and counts connections, so tests assert on
 * what the client put on the wire and where.
 *
 * <pre>{@code
 * try (AdversaryHttp1Server server = AdversaryHttp1Server.builder()
 *         .script(1, Http1Script.reply().readBody().response(200, "ok", "Connection: keep-alive").close())
 *         .start()) {
 *     URI uri = server.uri().resolve("/v1/embeddings");
 *     ...
 *     assertThat(server.request(2).connectionNumber()).isEqualTo(2);
 * }
 * }</pre>
 *
 * <p>Plain TCP by default; {@link Builder#tls(boolean)} serves TLS (ALPN {@code http/1.1}) on a
 * fresh self-signed certificate. Each connection is served by one thread of a fixed pool
 * ({@link Builder#maxConnections(int)}, default 16; connections beyond it wait for a thread),
 * plus one accept thread.
 *
 * <p>Thread-safe: every method may be called from any thread. Owns the listening socket, the
 * accepted sockets and all its threads; {@link #close()} releases them all and is idempotent.
 */
public final class AdversaryHttp1Server implements AutoCloseable {
    private final ServerSocket listener;
    private final boolean tls;
    private final String certificatePem;
    private final ExecutorService workers;
    private final Thread acceptor;
    private final Map<Integer, Http1Script> scripts;
    private final Http1Script defaultScript;
    private final Duration idleTimeout;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final Map<Integer, Http1RequestRecord> requests = new ConcurrentHashMap<>();
    /** Requests recorded (in the map); what {@link #awaitRequests} waits on. */
    private final AtomicInteger requestCount = new AtomicInteger();
    /** Numbers handed to arriving requests, 1-based; ahead of {@link #requestCount} while one is being recorded. */
    private final AtomicInteger requestNumbers = new AtomicInteger();
    private final AtomicInteger connectionCount = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();

    private AdversaryHttp1Server(Builder b) throws IOException {
        this.scripts = Map.copyOf(b.scripts);
        this.defaultScript = b.defaultScript;
        this.idleTimeout = b.idleTimeout;
        this.tls = b.tls;
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        if (b.tls) {
            SelfSignedTls cert = SelfSignedTls.generate();
            this.certificatePem = cert.certificatePem();
            SSLServerSocket s = (SSLServerSocket) cert.jdkServerContext().getServerSocketFactory()
                    .createServerSocket(0, 50, loopback);
            SSLParameters p = s.getSSLParameters();
            p.setApplicationProtocols(new String[] {"http/1.1"});
            s.setSSLParameters(p);
            this.listener = s;
        } else {
            this.certificatePem = null;
            this.listener = new ServerSocket(0, 50, loopback);
        }
        AtomicInteger threads = new AtomicInteger();
        this.workers = Executors.newFixedThreadPool(b.maxConnections, r -> {
            Thread t = new Thread(r, "adversary-http1-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.acceptor = new Thread(this::acceptLoop, "adversary-http1-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public static Builder builder() {
        return new Builder();
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
            int n = connectionCount.incrementAndGet();
            try {
                workers.execute(() -> {
                    try {
                        new Http1Connection(this, s, n, idleTimeout).run();
                    } finally {
                        sockets.remove(s);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                closeQuietly(s); // shutting down
            }
        }
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** {@code http://127.0.0.1:PORT}, or {@code https://localhost:PORT} with TLS. */
    public URI uri() {
        return URI.create(tls ? "https://localhost:" + port() : "http://127.0.0.1:" + port());
    }

    /** The PEM certificate a client must trust; null without TLS. */
    public String certificatePem() {
        return certificatePem;
    }

    /** Connections accepted so far. */
    public int connections() {
        return connectionCount.get();
    }

    /** Every request received so far, in arrival order. */
    public List<Http1RequestRecord> requests() {
        List<Http1RequestRecord> all = new ArrayList<>(requests.values());
        all.sort(Comparator.comparingInt(Http1RequestRecord::requestNumber));
        return all;
    }

    /** Request number {@code n} (1-based), or null if it has not arrived. */
    public Http1RequestRecord request(int n) {
        return requests.get(n);
    }

    /** Waits until at least {@code count} requests arrived; false when {@code timeout} passed first. */
    public boolean awaitRequests(int count, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (requestCount.get() < count) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            Thread.sleep(5);
        }
        return true;
    }

    Http1RequestRecord record(int connectionNumber, String head, boolean afterServerClosed) {
        int n = requestNumbers.incrementAndGet();
        Http1RequestRecord r = new Http1RequestRecord(n, connectionNumber, head, afterServerClosed);
        requests.put(n, r);
        // Counted only once it is in the map: awaitRequests(n) promises that request(n) is there.
        requestCount.incrementAndGet();
        return r;
    }

    Http1Script scriptFor(int n) {
        return scripts.getOrDefault(n, defaultScript);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        closeQuietly(listener);
        workers.shutdownNow();
        for (Socket s : sockets) {
            closeQuietly(s);
        }
        try {
            acceptor.join(TimeUnit.SECONDS.toMillis(5));
            workers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    /**
     * Configures an {@link AdversaryHttp1Server}. Defaults: plain TCP, 16 connection threads, no
     * idle timeout, every request answered by {@link Http1Script#ok()}.
     *
     * <p>Not thread-safe; confine to one thread.
     */
    public static final class Builder {
        private final Map<Integer, Http1Script> scripts = new HashMap<>();
        private Http1Script defaultScript = Http1Script.ok();
        private Duration idleTimeout;
        private boolean tls;
        private int maxConnections = 16;

        private Builder() {
        }

        /** The script for request number {@code n} (1-based, across connections). */
        public Builder script(int n, Http1Script script) {
            if (n < 1) {
                throw new IllegalArgumentException("request numbers start at 1: " + n);
            }
            scripts.put(n, Objects.requireNonNull(script, "script"));
            return this;
        }

        /** Scripts for requests 1, 2, ... in order. */
        public Builder scripts(Http1Script... inOrder) {
            for (int i = 0; i < inOrder.length; i++) {
                script(i + 1, inOrder[i]);
            }
            return this;
        }

        /** The script for every request without its own (default {@link Http1Script#ok()}). */
        public Builder defaultScript(Http1Script script) {
            this.defaultScript = Objects.requireNonNull(script, "script");
            return this;
        }

        /** Closes (FIN) a connection that has been waiting this long for its next request. */
        public Builder idleTimeout(Duration d) {
            this.idleTimeout = d;
            return this;
        }

        /** TLS (ALPN {@code http/1.1}) on a fresh self-signed certificate. */
        public Builder tls(boolean on) {
            this.tls = on;
            return this;
        }

        /** Connection threads; connections beyond them wait for a thread (default 16). */
        public Builder maxConnections(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("maxConnections must be positive: " + n);
            }
            this.maxConnections = n;
            return this;
        }

        /** Binds 127.0.0.1 on a free port and starts accepting. */
        public AdversaryHttp1Server start() {
            try {
                return new AdversaryHttp1Server(this);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot bind the adversary HTTP/1.1 server", e);
            }
        }
    }
}

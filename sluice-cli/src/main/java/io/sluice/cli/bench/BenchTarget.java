package io.sluice.cli.bench;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.Http2Settings;
import io.sluice.http.HttpRequest;
import io.sluice.http.TlsOptions;
import io.sluice.pool.PoolConfig;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where the bench sends its requests: the embedded mock provider (TLS, HTTP/2 and HTTP/1.1 by ALPN,
 * plus its cleartext HTTP/1.1 port) started in this process, or a server given by {@code --url}.
 * Builds the clients the phases use, all trusting the target's certificate.
 *
 * <p><b>Thread-safety:</b> thread-safe; {@link #close()} once at the end.
 */
public final class BenchTarget implements AutoCloseable {
    /** The streamed chat completion body every phase sends. */
    public static final byte[] CHAT_STREAM = ("{\"model\":\"gpt-4o-mini\",\"stream\":true,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}").getBytes(StandardCharsets.UTF_8);
    /** A non-streamed chat completion body. */
    public static final byte[] CHAT = ("{\"model\":\"gpt-4o-mini\","
            + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}").getBytes(StandardCharsets.UTF_8);

    private final MockProvider mock;
    private final URI https;
    private final URI http;
    private final TlsOptions tls;
    private final ExecutorService callbacks;
    private final String certificatePem;

    private BenchTarget(MockProvider mock, URI https, URI http, TlsOptions tls, String pem) {
        this.mock = mock;
        this.https = https;
        this.http = http;
        this.tls = tls;
        this.certificatePem = pem;
        AtomicInteger n = new AtomicInteger();
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        this.callbacks = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "sluice-bench-callback-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts the embedded mock provider (TLS h2/http1.1 and cleartext http1.1, 127.0.0.1, ephemeral ports). */
    public static BenchTarget startMock() {
        MockProvider mock = MockProvider.start(MockOptions.builder()
                .idleTimeout(Duration.ofMinutes(5))
                .rateLimitRequests(1_000_000_000L)
                .rateLimitTokens(1_000_000_000L)
                .build());
        TlsOptions tls = TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build();
        return new BenchTarget(mock, mock.httpsUri(), mock.httpUri(), tls, mock.certificatePem());
    }

    /** A server given by URL; {@code cacertPem} (may be null) is trusted in addition to the system roots. */
    public static BenchTarget foreign(URI url, java.nio.file.Path cacert, boolean insecure) {
        TlsOptions.Builder b = TlsOptions.builder().insecure(insecure);
        String pem = null;
        if (cacert != null) {
            try {
                pem = Files.readString(cacert, StandardCharsets.US_ASCII);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read --cacert " + cacert, e);
            }
            b.trustCertificatePem(pem);
        }
        String s = url.toString();
        URI base = URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
        boolean secure = "https".equalsIgnoreCase(base.getScheme());
        return new BenchTarget(null, secure ? base : null, secure ? null : base, b.build(), pem);
    }

    /**
     * Sends one {@code GET /ping} to {@link #main()} through a fresh client with no retries and
     * waits at most {@code timeout} for its response head; any status counts as an answer (a
     * server that is not a Sluice mock may well say 404). Run before the phases, so that a target
     * that does not answer ends the run at once with one clear line instead of every phase
     * timing out in turn.
     *
     * @throws TargetUnreachableException when no response head arrives in time
     */
    public void checkReachable(Duration timeout) {
        HttpRequest ping = HttpRequest.newBuilder(main().resolve("/ping")).GET().headersTimeout(timeout).build();
        try (ConnectionPoolManager c = ConnectionPoolManager.builder()
                .poolConfig(PoolConfig.builder().minIdle(0).maxConnections(1).maxRetries(0)
                        .connectionTimeout(timeout).build())
                .tls(tls).statusRetries(false).ioThreads(1).build()) {
            c.send(ping).get(timeout.toMillis() * 2 + 1_000, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new TargetUnreachableException(main(), e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new TargetUnreachableException(main(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TargetUnreachableException(main(), e);
        }
    }

    /** The target did not answer {@link #checkReachable}; the cause says how it failed. */
    public static final class TargetUnreachableException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        TargetUnreachableException(URI target, Throwable cause) {
            super(target + " did not answer: " + LoadDriver.describe(cause), cause);
        }
    }

    /** The embedded mock, or null for a foreign URL. */
    public MockProvider mock() {
        return mock;
    }

    public boolean embedded() {
        return mock != null;
    }

    /** The TLS base URI (h2 by ALPN), or null when the target is cleartext only. */
    public URI https() {
        return https;
    }

    /** A cleartext HTTP/1.1 base URI, or null. */
    public URI http() {
        return http;
    }

    /** The base URI the HTTP/2 phases use: TLS when there is one. */
    public URI main() {
        return https != null ? https : http;
    }

    public TlsOptions tls() {
        return tls;
    }

    /** The PEM the client trusts (the mock's certificate or --cacert), or null. */
    public String certificatePem() {
        return certificatePem;
    }

    /** A new client with {@code pool} and {@code http2}; close it when done. */
    public ConnectionPoolManager client(PoolConfig pool, Http2Settings http2, int ioThreads) {
        return clientBuilder(pool, http2, ioThreads).build();
    }

    /** The builder of {@link #client(PoolConfig, Http2Settings, int)}, for a phase that adds to it (metrics). */
    public ConnectionPoolManager.Builder clientBuilder(PoolConfig pool, Http2Settings http2, int ioThreads) {
        return ConnectionPoolManager.builder()
                .poolConfig(pool)
                .http2(http2)
                .tls(tls)
                .statusRetries(false)
                .ioThreads(ioThreads)
                .callbackExecutor(callbacks);
    }

    public ConnectionPoolManager client(PoolConfig pool) {
        return client(pool, Http2Settings.defaults(), 0);
    }

    /** {@code GET /ping} on {@code base}. */
    public static HttpRequest ping(URI base) {
        return HttpRequest.newBuilder(base.resolve("/ping")).GET().build();
    }

    /** A streamed chat completion: head after {@code headDelayMs}, then {@code tokens} tokens {@code tokenDelayMs} apart. */
    public static HttpRequest chatStream(URI base, int tokens, int tokenDelayMs, io.sluice.testkit.MockBarrier barrier) {
        return HttpRequest.newBuilder(base.resolve("/v1/chat/completions"))
                .header("content-type", "application/json")
                .header(io.sluice.testkit.MockBehavior.H_BARRIER, barrier.headerValue())
                .header(io.sluice.testkit.MockBehavior.H_BARRIER_TIMEOUT_MS, Long.toString(barrier.timeoutMs()))
                .header("x-mock-tokens", Integer.toString(tokens))
                .header("x-mock-token-delay-ms", Integer.toString(tokenDelayMs))
                .POST(CHAT_STREAM)
                .build();
    }

    /**
     * A barrier, unique to this run, for {@code streams} streams over at most {@code connections}
     * connections: its parties are the streams that fit in the pool at once (the client caps a
     * connection at {@link Http2Settings#DEFAULT_MAX_CONCURRENT_STREAMS} streams), so it completes
     * exactly when every stream that can be open is open at the server.
     */
    static io.sluice.testkit.MockBarrier streamBarrier(String name, int streams, int connections, long timeoutMs) {
        int parties = (int) Math.min(streams, (long) connections * Http2Settings.DEFAULT_MAX_CONCURRENT_STREAMS);
        return new io.sluice.testkit.MockBarrier(name + "-" + java.util.UUID.randomUUID(), parties, timeoutMs);
    }

    /** A non-streamed chat completion answered after {@code delayMs}. */
    public static HttpRequest chat(URI base, int tokens, long delayMs) {
        return HttpRequest.newBuilder(base.resolve("/v1/chat/completions"))
                .header("content-type", "application/json")
                .header("x-mock-tokens", Integer.toString(tokens))
                .header("x-mock-delay-ms", Long.toString(delayMs))
                .POST(CHAT)
                .build();
    }

    @Override
    public void close() {
        callbacks.shutdownNow();
        if (mock != null) {
            mock.close();
        }
    }
}

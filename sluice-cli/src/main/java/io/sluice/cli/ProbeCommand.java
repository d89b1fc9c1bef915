package io.sluice.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.Route;
import io.sluice.http.SluiceHttpException;
import io.sluice.http.TlsOptions;
import io.sluice.http.TlsStats;
import io.sluice.pool.PoolConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sluice probe URL}: one request through a fresh pool, then what the connection
 * negotiated: protocol, TLS version and cipher, handshake time, time to first byte, status,
 * and the peer's SETTINGS_MAX_CONCURRENT_STREAMS. A failure prints the typed error on one
 * line and exits 1. One instance per run; not thread-safe.
 */
@Command(name = "probe", mixinStandardHelpOptions = true,
        description = "Send one request through the pool and show what the connection negotiated.")
final class ProbeCommand implements Callable<Integer> {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "URL", description = "http:// or https:// URL to GET.")
    URI url;

    @Option(names = "--cacert", paramLabel = "FILE", description = "Also trust the PEM certificate(s) in FILE.")
    Path cacert;

    @Option(names = "--insecure", description = "Trust any certificate and host name (logs a warning).")
    boolean insecure;

    @Option(names = "--http1", description = "Offer only http/1.1 in ALPN.")
    boolean http1;

    @Option(names = "--header", paramLabel = "NAME:VALUE", description = "Add a request header (repeatable).")
    java.util.List<String> headers = new java.util.ArrayList<>();

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Option(names = "--timeout-ms", defaultValue = "10000", description = "Time-to-headers bound (default: ${DEFAULT-VALUE}).")
    long timeoutMs;

    /** What one probe found. */
    record Result(String protocol, int status, String tlsVersion, String cipher, double handshakeMs, boolean resumed,
            double ttfbMs, int peerMaxStreams, int capacity, String tlsProvider) {
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        try {
            Result r = probe();
            if (json) {
                out.println(toJson(r));
            } else {
                print(out, r);
            }
            out.flush();
            return 0;
        } catch (SluiceHttpException e) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("probe failed: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            err.flush();
            return 1;
        }
    }

    Result probe() throws IOException {
        TlsOptions.Builder tls = TlsOptions.builder().insecure(insecure);
        if (cacert != null) {
            tls.trustCertificatePem(Files.readString(cacert, StandardCharsets.US_ASCII));
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(url).GET().headersTimeout(java.time.Duration.ofMillis(timeoutMs));
        for (String h : headers) {
            int colon = h.indexOf(':');
            if (colon <= 0) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--header needs NAME:VALUE");
            }
            request.header(h.substring(0, colon).trim(), h.substring(colon + 1).trim());
        }
        try (ConnectionPoolManager client = ConnectionPoolManager.builder().tls(tls.build()).http1Only(http1)
                .poolConfig(PoolConfig.builder().minIdle(0).maxConnections(1).maxRetries(0).build())
                .statusRetries(false).build()) {
            long start = System.nanoTime();
            HttpResponse response;
            io.sluice.http.StreamingResponse head = join(client.stream(request.build()));
            double ttfbMs = (System.nanoTime() - start) / 1e6;
            try (head) {
                response = head.aggregateBlocking();
            }
            Route route = Route.of(url);
            String tlsVersion = null;
            String cipher = null;
            int peerMax = -1;
            int capacity = 1;
            java.util.List<io.sluice.http.ConnectionInfo> open = client.connections(route);
            if (!open.isEmpty()) {
                io.sluice.http.ConnectionInfo c = open.get(0);
                capacity = c.capacity();
                peerMax = c.peerMaxConcurrentStreams();
                tlsVersion = c.tlsVersion();
                cipher = c.cipherSuite();
            }
            TlsStats t = client.tlsStats();
            boolean resumed = t.resumedHandshakes() > 0 && t.fullHandshakes() == 0;
            double handshakeMs = route.secure() ? (resumed ? t.meanResumedNanos() : t.meanFullNanos()) / 1e6 : 0;
            return new Result(response.protocol().alpnId(), response.status(), tlsVersion, cipher, handshakeMs, resumed,
                    ttfbMs, peerMax, capacity, route.secure() ? client.tlsProvider() : null);
        }
    }

    private static <T> T join(java.util.concurrent.CompletableFuture<T> f) {
        try {
            return f.get(5, TimeUnit.MINUTES);
        } catch (ExecutionException | CompletionException e) {
            Throwable c = e.getCause();
            if (c instanceof SluiceHttpException s) {
                throw s;
            }
            throw new IllegalStateException(c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("probe did not finish", e);
        }
    }

    static String toJson(Result r) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("protocol", r.protocol());
        o.put("status", r.status());
        o.put("tls_version", r.tlsVersion());
        o.put("cipher", r.cipher());
        o.put("handshake_ms", round(r.handshakeMs()));
        o.put("handshake_resumed", r.resumed());
        o.put("ttfb_ms", round(r.ttfbMs()));
        if (r.peerMaxStreams() >= 0) {
            o.put("peer_max_streams", r.peerMaxStreams());
        } else {
            o.putNull("peer_max_streams");
        }
        o.put("capacity", r.capacity());
        o.put("tls_provider", r.tlsProvider());
        return o.toString();
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    private void print(PrintWriter out, Result r) {
        out.printf(Locale.ROOT, "%-12s %s%n", "url", url);
        out.printf(Locale.ROOT, "%-12s %s%n", "protocol", r.protocol());
        out.printf(Locale.ROOT, "%-12s %d%n", "status", r.status());
        if (r.tlsVersion() != null) {
            out.printf(Locale.ROOT, "%-12s %s %s (%s)%n", "tls", r.tlsVersion(), r.cipher(), r.tlsProvider());
            out.printf(Locale.ROOT, "%-12s %.2f ms (%s)%n", "handshake", r.handshakeMs(), r.resumed() ? "resumed" : "full");
        } else {
            out.printf(Locale.ROOT, "%-12s %s%n", "tls", "none (cleartext)");
        }
        out.printf(Locale.ROOT, "%-12s %.2f ms (connect, handshake and request)%n", "ttfb", r.ttfbMs());
        if (r.peerMaxStreams() >= 0) {
            out.printf(Locale.ROOT, "%-12s %d (streams per connection used: %d)%n", "peer max streams",
                    r.peerMaxStreams(), r.capacity());
        }
    }
}

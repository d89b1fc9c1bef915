package io.sluice.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.http.ConnectFailedException;
import io.sluice.http.ConnectionInfo;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.prometheus.PrometheusMetrics;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.LimitExceededException;
import io.sluice.http.PoolExhaustedException;
import io.sluice.http.RequestTimeoutException;
import io.sluice.http.Route;
import io.sluice.http.RouteUnavailableException;
import io.sluice.http.SluiceHttpException;
import io.sluice.http.StreamingResponse;
import io.sluice.http.Timeouts;
import io.sluice.http.TlsFailedException;
import io.sluice.http.TlsOptions;
import io.sluice.http.TlsStats;
import io.sluice.http.InvalidRequestException;
import io.sluice.pool.PoolConfig;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sluice probe URL}: a GET through a fresh client, then what the connection negotiated
 * (protocol, TLS version and cipher, the peer's SETTINGS_MAX_CONCURRENT_STREAMS) and how long it
 * took, twice: on the first connection (cold: it includes loading and JIT-compiling the client in
 * this fresh JVM) and on a second, new connection of the same client (warm: what a long-running
 * application sees for a new connection; over TLS it may resume the first one's session).
 *
 * <p>The command line is checked before anything is sent (the URL's scheme, {@code --cacert},
 * {@code --h2c} with https, each {@code --header}): one usage line, exit code 2. A request that
 * fails (refused, TLS, timeout, reset) is a runtime error: one line on stderr with the error's
 * type and phase, exit code 3; with {@code --json} the JSON object on stdout says the same. Any
 * status is a success unless {@code --fail} is given, which makes a non-2xx status exit code 1.
 *
 * <p>Uses only the library's public API ({@link ConnectionPoolManager#connections(Route)},
 * {@link ConnectionPoolManager#tlsStats()}, {@link ConnectionPoolManager#pool(Route)}).
 * One instance per run; not thread-safe.
 */
@Command(name = "probe", mixinStandardHelpOptions = true, sortOptions = false,
        synopsisHeading = "",
        customSynopsis = { // picocli's own wraps --header=NAME:VALUE at the colon
            "Usage: sluice probe [-hV] [--json] [--fail] [--timeout=DURATION]",
            "                    [--header=NAME:VALUE]... [--cacert=FILE] [--insecure]",
            "                    [--http1 | --h2c] URL",
            ""},
        description = {
            "Send a GET through a fresh client and show what the connection negotiated: protocol, TLS "
                    + "version and cipher, the server's stream limit, status, handshake time and time to "
                    + "first byte.",
            "",
            "Timings are shown twice: 'cold' is the first connection and includes the JVM warming up "
                    + "(class loading, JIT), so it is far slower than the network; 'warm' is a second, new "
                    + "connection of the same client (over TLS it may resume the first one's session).",
            "",
            "Any HTTP status counts as success unless --fail is given. A request that fails (refused, "
                    + "TLS, timeout, reset) prints the error's type and phase on one line and exits 3."})
final class ProbeCommand implements Callable<Integer> {

    static final String COLD_LABEL = "first connection, includes JVM warm-up";
    static final String WARM_LABEL = "second connection";

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "URL", description = "The http:// or https:// URL to GET.")
    URI url;

    @Option(names = "--cacert", paramLabel = "FILE",
            description = "Also trust the PEM certificate(s) in FILE (e.g. the mock's --cert-out file).")
    Path cacert;

    @Option(names = "--insecure", description = "Trust any certificate and host name (logs a warning).")
    boolean insecure;

    @Option(names = "--http1", description = "Offer only http/1.1 in ALPN (https:// URLs).")
    boolean http1;

    @Option(names = "--h2c", description = "Speak HTTP/2 with prior knowledge over cleartext (http:// URLs only).")
    boolean h2c;

    @Option(names = "--header", paramLabel = "NAME:VALUE", description = "Add a request header (repeatable).")
    List<String> headers = new ArrayList<>();

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "10s",
            converter = DurationConverter.Positive.class,
            description = "Bound on each phase of a request: connecting (TCP and TLS), the response headers, "
                    + "each gap in the body; 500ms, 10s, 2m (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--fail", description = "Exit 1 when the status is not 2xx (like curl -f); without it any status exits 0.")
    boolean fail;

    @Option(names = "--json", description = "Print one JSON object on stdout (on failure too).")
    boolean json;

    @Option(names = "--metrics", description = "Send through a client instrumented with sluice-prometheus and print "
            + "its Prometheus exposition after the report (in --json: the \"metrics\" field).")
    boolean metrics;

    /** The exposition taken just before the probe's client closed; null without --metrics. */
    private String exposition;

    /** What the probe found over one connection. */
    record Timing(String label, int status, Double handshakeMs, boolean resumed, double ttfbMs, String localAddress) {
    }

    /**
     * What one probe found: the connection-independent facts of the first exchange, its timing,
     * and the second connection's timing (null when that request failed).
     */
    record Result(String protocol, int status, String tlsVersion, String cipher, int peerMaxStreams, int capacity,
            String tlsProvider, String transport, Timing cold, Timing warm) {
    }

    /** A request that failed, and in which phase. */
    record Failure(SluiceHttpException error, String phase) {
        String kind() {
            return error.getClass().getSimpleName();
        }

        /** {@code Kind (phase): message}, one line. */
        String line() {
            return kind() + " (" + phase + "): " + oneLine(error.getMessage());
        }
    }

    /** A failure in the middle of {@link #probe}, carrying what was found before it. */
    private static final class ProbeFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient Failure failure;
        final transient Result partial;

        ProbeFailed(Failure failure, Result partial) {
            super(failure.line(), failure.error(), false, false);
            this.failure = failure;
            this.partial = partial;
        }
    }

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        Request req = validate(cl);
        PrintWriter out = cl.getOut();
        Result r;
        Runnable restoreLogs = quietLibraryLogs();
        try {
            r = probe(req);
        } catch (ProbeFailed f) {
            String where = f.partial == null ? "" : "warm (" + WARM_LABEL + "): ";
            if (json) {
                out.println(withMetrics(toJson(url, f.partial, false, f.failure)));
            } else {
                if (f.partial != null) {
                    print(out, f.partial);
                }
                printMetrics(out);
            }
            out.flush();
            throw CliFailure.runtime(where + f.failure.line(), f.failure.error());
        } finally {
            restoreLogs.run();
        }
        boolean negative = fail && (r.status() < 200 || r.status() > 299);
        if (json) {
            out.println(withMetrics(toJson(url, r, !negative, null)));
        } else {
            print(out, r);
            printMetrics(out);
        }
        out.flush();
        if (negative) {
            PrintWriter err = cl.getErr();
            err.println(spec.qualifiedName() + ": status " + r.status() + " is not 2xx (--fail)");
            err.flush();
            return ExitCode.NOT_MET;
        }
        return ExitCode.OK;
    }

    /** The exposition after a blank line, when --metrics asked for it. */
    private void printMetrics(PrintWriter out) {
        if (exposition != null) {
            out.println();
            out.print(exposition);
        }
    }

    /** The JSON object with a "metrics" field holding the exposition text, when --metrics asked for it. */
    private String withMetrics(String jsonObject) {
        if (exposition == null) {
            return jsonObject;
        }
        try {
            ObjectMapper m = new ObjectMapper();
            ObjectNode node = (ObjectNode) m.readTree(jsonObject);
            node.put("metrics", exposition);
            return m.writeValueAsString(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("the probe's own JSON did not parse", e);
        }
    }

    /**
     * Raises the library's log level to ERROR for the probe and returns what restores it: the
     * pool logs a failed connect and its backoff at WARN, and the probe reports that failure
     * itself, on one line. {@code SLUICE_DEBUG} keeps them.
     */
    static Runnable quietLibraryLogs() {
        if (System.getenv("SLUICE_DEBUG") != null
                || !(org.slf4j.LoggerFactory.getLogger("io.sluice") instanceof ch.qos.logback.classic.Logger l)) {
            return () -> { };
        }
        ch.qos.logback.classic.Level was = l.getLevel();
        l.setLevel(ch.qos.logback.classic.Level.ERROR);
        return () -> l.setLevel(was);
    }

    /** The checked command line: what to send and how to trust the server. */
    private record Request(HttpRequest request, TlsOptions tls) {
    }

    /** Every check of the command line, before anything is sent; a {@link CommandLine.ParameterException} on the first problem. */
    private Request validate(CommandLine cl) {
        InputFiles.httpUrl(cl, "URL", url);
        boolean secure = url.getScheme().equalsIgnoreCase("https");
        if (h2c && secure) {
            throw new CommandLine.ParameterException(cl, "--h2c needs an http:// URL (https:// negotiates HTTP/2 by ALPN)");
        }
        if (h2c && http1) {
            throw new CommandLine.ParameterException(cl, "--h2c and --http1 contradict each other");
        }
        TlsOptions.Builder tls = TlsOptions.builder().insecure(insecure);
        if (cacert != null) {
            tls.trustCertificatePem(InputFiles.pemCertificates(cl, "--cacert", cacert));
        }
        HttpRequest.Builder request;
        try {
            request = HttpRequest.newBuilder(url).GET().headersTimeout(timeout).bodyIdleTimeout(timeout);
            for (String h : headers) {
                int colon = h.indexOf(':');
                if (colon <= 0 || h.substring(0, colon).isBlank()) {
                    throw new CommandLine.ParameterException(cl, "--header: '" + h + "' is not NAME:VALUE");
                }
                request.header(h.substring(0, colon).trim(), h.substring(colon + 1).trim());
            }
            return new Request(request.build(), tls.build());
        } catch (IllegalArgumentException | InvalidRequestException e) {
            throw new CommandLine.ParameterException(cl, oneLine(e.getMessage()));
        }
    }

    /**
     * The cold exchange on a new client's first connection, then the warm one on a second
     * connection: the first is taken out of the pool (a lease on it, invalidated) so that the
     * second request has to open a new one.
     */
    Result probe(Request req) {
        Route route = Route.of(url);
        // The pool's acquire bound covers the connect it waits for: twice --timeout, so that a slow connect
        // (a cold JVM's first TLS handshake) fails as a connect timeout, the phase that was slow, not as "acquire".
        PoolConfig pool = PoolConfig.builder().minIdle(0).maxConnections(1).maxRetries(0)
                .connectionTimeout(timeout.multipliedBy(2)).build();
        PrometheusMetrics prometheus = metrics ? new PrometheusMetrics() : null;
        ConnectionPoolManager.Builder builder = ConnectionPoolManager.builder().tls(req.tls()).http1Only(http1)
                .h2cPriorKnowledge(h2c).poolConfig(pool).timeouts(new Timeouts(timeout, timeout, timeout, null))
                .statusRetries(false);
        try (ConnectionPoolManager client = (prometheus == null ? builder : prometheus.instrument(builder)).build()) {
            if (prometheus != null) {
                prometheus.client(client);
            }
            try {
                return probeWith(client, req, route);
            } finally {
                // Taken while the client is open: its pools are what the exposition reads.
                exposition = prometheus == null ? null : prometheus.scrape();
            }
        }
    }

    private Result probeWith(ConnectionPoolManager client, Request req, Route route) {
        Exchange first = exchange(client, req.request(), route, null);
        TlsStats afterCold = client.tlsStats();
        Timing cold = new Timing(COLD_LABEL, first.response().status(), handshakeMs(route, afterCold, null),
                resumed(afterCold, null), first.ttfbMs(), address(first.info()));
        ConnectionInfo c = first.info();
        Result partial = new Result(first.response().protocol().alpnId(), first.response().status(),
                c == null ? null : c.tlsVersion(), c == null ? null : c.cipherSuite(),
                c == null ? -1 : c.peerMaxConcurrentStreams(), c == null ? 1 : c.capacity(),
                route.secure() ? client.tlsProvider() : null, client.transportName(), cold, null);
        Timing warm;
        try {
            retireTheConnection(client, route);
            TlsStats before = client.tlsStats();
            Exchange second = exchange(client, req.request(), route, cold.localAddress());
            TlsStats after = client.tlsStats();
            warm = new Timing(WARM_LABEL, second.response().status(), handshakeMs(route, after, before),
                    resumed(after, before), second.ttfbMs(),
                    address(second.info()));
        } catch (ProbeFailed f) {
            throw new ProbeFailed(f.failure, partial);
        }
        return new Result(partial.protocol(), partial.status(), partial.tlsVersion(), partial.cipher(),
                partial.peerMaxStreams(), partial.capacity(), partial.tlsProvider(), partial.transport(), cold, warm);
    }

    /** One exchange: the response, the time to its head, and the connection it went over. */
    private record Exchange(HttpResponse response, double ttfbMs, ConnectionInfo info) {
    }

    /** Sends {@code request}, reads the body, and finds its connection: the open one whose local address is not {@code notOn}. */
    private Exchange exchange(ConnectionPoolManager client, HttpRequest request, Route route, String notOn) {
        long start = System.nanoTime();
        StreamingResponse head = join(client.stream(request), "headers");
        double ttfbMs = (System.nanoTime() - start) / 1e6;
        HttpResponse response;
        try (head) {
            response = head.aggregateBlocking();
        } catch (SluiceHttpException e) {
            throw new ProbeFailed(new Failure(e, phase(e, "body")), null);
        }
        ConnectionInfo info = null;
        for (ConnectionInfo c : client.connections(route)) {
            if (notOn == null || !notOn.equals(address(c))) {
                info = c;
            }
        }
        return new Exchange(response, ttfbMs, info);
    }

    /**
     * The connection's local {@code host:port} ({@link ConnectionInfo#localAddress()} may carry
     * {@link java.net.InetSocketAddress#toString()}'s {@code hostname/} prefix, empty when unresolved).
     */
    static String address(ConnectionInfo c) {
        if (c == null || c.localAddress() == null) {
            return null;
        }
        String a = c.localAddress();
        return a.startsWith("/") ? a.substring(1) : a;
    }

    /**
     * Takes the route's only connection out of the pool: a lease on it (maxConnections is 1, so
     * the pool hands out that one, once the first exchange has returned it), invalidated.
     */
    private void retireTheConnection(ConnectionPoolManager client, Route route) {
        io.sluice.pool.Lease<?> lease = join(client.pool(route).acquire(), "acquire");
        lease.invalidate();
    }

    /** The handshake time of the connection opened between {@code before} and {@code after}; null on cleartext. */
    private static Double handshakeMs(Route route, TlsStats after, TlsStats before) {
        if (!route.secure()) {
            return null;
        }
        long full = after.fullHandshakes() - (before == null ? 0 : before.fullHandshakes());
        long resumed = after.resumedHandshakes() - (before == null ? 0 : before.resumedHandshakes());
        long fullNanos = after.fullNanosTotal() - (before == null ? 0 : before.fullNanosTotal());
        long resumedNanos = after.resumedNanosTotal() - (before == null ? 0 : before.resumedNanosTotal());
        if (resumed > 0 && full == 0) {
            return resumedNanos / 1e6 / resumed;
        }
        return full > 0 ? fullNanos / 1e6 / full : null;
    }

    private static boolean resumed(TlsStats after, TlsStats before) {
        long full = after.fullHandshakes() - (before == null ? 0 : before.fullHandshakes());
        long resumed = after.resumedHandshakes() - (before == null ? 0 : before.resumedHandshakes());
        return resumed > 0 && full == 0;
    }

    /**
     * Waits for {@code f}; a {@link SluiceHttpException} becomes a {@link ProbeFailed} in
     * {@code stage} (or the phase its type names). Every phase is bounded by {@code --timeout},
     * so the cap here only catches a bug.
     */
    private <T> T join(CompletableFuture<T> f, String stage) {
        try {
            return f.get(timeout.toMillis() * 4 + 30_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | CompletionException e) {
            Throwable c = e.getCause();
            if (c instanceof SluiceHttpException s) {
                throw new ProbeFailed(new Failure(s, phase(s, stage)), null);
            }
            throw CliFailure.runtime(SluiceCli.describe(c), c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw CliFailure.runtime("interrupted", e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw CliFailure.runtime("no answer from " + url + " although every phase is bounded by --timeout "
                    + "(a bug; SLUICE_DEBUG=1 shows more)", e);
        }
    }

    /**
     * The phase of a failure, from its type: connect, tls, acquire; a timeout names its own
     * (acquire, connect, headers, body, total); a limit names the headers or the body; anything
     * else (a lost connection, a protocol error, a refused stream) failed in {@code stage}, the
     * part of the exchange under way (headers until the response head arrived, body after).
     */
    static String phase(SluiceHttpException e, String stage) {
        if (e instanceof ConnectFailedException) {
            return "connect";
        }
        if (e instanceof TlsFailedException) {
            return "tls";
        }
        if (e instanceof PoolExhaustedException || e instanceof RouteUnavailableException) {
            return "acquire";
        }
        if (e instanceof InvalidRequestException) {
            return "request";
        }
        if (e instanceof RequestTimeoutException t) {
            return switch (t.phase()) {
                case ACQUIRE -> "acquire";
                case CONNECT -> "connect";
                case HEADERS -> "headers";
                case BODY_IDLE -> "body";
                case TOTAL -> "total";
            };
        }
        if (e instanceof LimitExceededException l) {
            return l.limit() == LimitExceededException.Limit.HEADER_BLOCK ? "headers" : "body";
        }
        return stage;
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " ");
    }

    /** The JSON object: url, ok, the result (when there is one), the error (when there is one). */
    static String toJson(URI url, Result r, boolean ok, Failure failure) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode o = m.createObjectNode();
        o.put("url", url.toString());
        o.put("ok", ok);
        if (r != null) {
            o.put("protocol", r.protocol());
            o.put("status", r.status());
            o.put("tls_version", r.tlsVersion());
            o.put("cipher", r.cipher());
            o.put("tls_provider", r.tlsProvider());
            o.put("transport", r.transport());
            if (r.peerMaxStreams() >= 0) {
                o.put("peer_max_streams", r.peerMaxStreams());
            } else {
                o.putNull("peer_max_streams");
            }
            o.put("capacity", r.capacity());
            o.set("cold", timing(m, r.cold()));
            if (r.warm() != null) {
                o.set("warm", timing(m, r.warm()));
            }
        }
        if (failure != null) {
            ObjectNode e = m.createObjectNode();
            e.put("kind", failure.kind());
            e.put("phase", failure.phase());
            e.put("message", oneLine(failure.error().getMessage()));
            if (r != null) {
                e.put("connection", "warm");
            }
            o.set("error", e);
        }
        return o.toString();
    }

    private static ObjectNode timing(ObjectMapper m, Timing t) {
        ObjectNode o = m.createObjectNode();
        o.put("label", t.label());
        o.put("status", t.status());
        if (t.handshakeMs() == null) {
            o.putNull("handshake_ms");
            o.putNull("handshake_resumed");
        } else {
            o.put("handshake_ms", round(t.handshakeMs()));
            o.put("handshake_resumed", t.resumed());
        }
        o.put("ttfb_ms", round(t.ttfbMs()));
        o.put("local_address", t.localAddress());
        return o;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    private void print(PrintWriter out, Result r) {
        String f = "%-17s %s%n";
        out.printf(Locale.ROOT, f, "url", url);
        out.printf(Locale.ROOT, f, "protocol", r.protocol());
        out.printf(Locale.ROOT, "%-17s %d%n", "status", r.status());
        if (r.tlsVersion() != null) {
            out.printf(Locale.ROOT, f, "tls", r.tlsVersion() + " " + r.cipher() + " (" + r.tlsProvider() + ")");
        } else {
            out.printf(Locale.ROOT, f, "tls", "none (cleartext" + (h2c ? ", h2c prior knowledge" : "") + ")");
        }
        out.printf(Locale.ROOT, f, "transport", r.transport());
        if (r.peerMaxStreams() >= 0) {
            out.printf(Locale.ROOT, "%-17s %d (streams per connection used: %d)%n", "peer max streams",
                    r.peerMaxStreams(), r.capacity());
        }
        printTiming(out, "cold", r.cold());
        if (r.warm() != null) {
            printTiming(out, "warm", r.warm());
        }
    }

    private static void printTiming(PrintWriter out, String name, Timing t) {
        out.printf(Locale.ROOT, "%s: %s (%s)%n", name, t.label(), t.localAddress());
        if (t.handshakeMs() != null) {
            out.printf(Locale.ROOT, "  %-15s %.2f ms (%s)%n", "handshake", t.handshakeMs(),
                    t.resumed() ? "resumed" : "full");
        }
        out.printf(Locale.ROOT, "  %-15s %.2f ms (%s)%n", "ttfb", t.ttfbMs(),
                t.handshakeMs() != null ? "connect, handshake and request" : "connect and request");
    }
}

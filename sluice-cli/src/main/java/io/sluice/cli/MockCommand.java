package io.sluice.cli;

import io.sluice.testkit.MockBehavior;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice mock}: runs the embedded mock provider until interrupted. The first stdout line is
 * machine-readable ({@code listening https=... http=... wss=... ws=... cert=...}); the rest is for
 * people. SIGINT/SIGTERM close the server through a shutdown hook. One instance per run; not
 * thread-safe (picocli fills the fields before {@link #call()}).
 */
@Command(name = "mock", mixinStandardHelpOptions = true,
        description = "Run the embedded mock AI provider (OpenAI/Anthropic shapes, TLS h2/http1.1, h2c, WebSocket).")
final class MockCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Bind address (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--tls-port", defaultValue = "8443", description = "TLS port, 0 = any free port (default: ${DEFAULT-VALUE}).")
    int tlsPort;

    @Option(names = "--plain-port", defaultValue = "8080", description = "Cleartext port, 0 = any free port (default: ${DEFAULT-VALUE}).")
    int plainPort;

    @Option(names = "--cert-out", description = "Write the server certificate (PEM) here; default: a temp file.")
    Path certOut;

    @Option(names = "--max-streams", defaultValue = "256", description = "HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS (default: ${DEFAULT-VALUE}).")
    int maxStreams;

    @Option(names = "--required-key", description = "Require this API key (Authorization: Bearer or x-api-key) on /v1/*.")
    String requiredKey;

    @Option(names = "--allow-non-loopback", description = "Allow binding a non-loopback address.")
    boolean allowNonLoopback;

    @Option(names = "--jdk-tls", description = "Use the JDK TLS engine even when BoringSSL is available.")
    boolean jdkTls;

    @Option(names = "--idle-timeout", defaultValue = "60s", converter = DurationConverter.class,
            description = "Close idle connections after this long, 0s = never (default: ${DEFAULT-VALUE}).")
    Duration idleTimeout;

    @Option(names = "--max-body-bytes", defaultValue = "8388608", description = "Request body limit (default: ${DEFAULT-VALUE}).")
    int maxBodyBytes;

    @Option(names = "--io-threads", defaultValue = "0", description = "Event loop threads, 0 = Netty's default (default: ${DEFAULT-VALUE}).")
    int ioThreads;

    @Option(names = "--tokens", defaultValue = "16", description = "Tokens per answer (x-mock-tokens) (default: ${DEFAULT-VALUE}).")
    int tokens;

    @Option(names = "--delay", defaultValue = "0ms", converter = DurationConverter.class,
            description = "Delay before response headers, e.g. 200ms (x-mock-delay-ms) (default: ${DEFAULT-VALUE}).")
    Duration delay;

    @Option(names = "--token-delay", defaultValue = "0ms", converter = DurationConverter.class,
            description = "Delay between streamed tokens, e.g. 50ms (x-mock-token-delay-ms) (default: ${DEFAULT-VALUE}).")
    Duration tokenDelay;

    @Option(names = "--status", defaultValue = "0", description = "Answer every request with this error status, "
            + "400..599, e.g. 429, 503, 529 (x-mock-status); 0 = normal answers (default: ${DEFAULT-VALUE}).")
    int status;

    @Option(names = "--retry-after", defaultValue = "1s", converter = DurationConverter.class,
            description = "retry-after(-ms) sent with 429/503/529 (default: ${DEFAULT-VALUE}).")
    Duration retryAfter;

    @Option(names = "--error-after-tokens", defaultValue = "-1", description = "Mid-stream error event after N tokens, -1 = off.")
    int errorAfterTokens;

    @Option(names = "--regions", split = ",", paramLabel = "NAME:DELAY",
            description = "Run one mock per region, each delaying its answers, e.g. us-east-1:0ms,eu-west-1:40ms. "
                    + "Ports count up from --tls-port/--plain-port (or are free ports when those are 0).")
    java.util.List<String> regions;

    @Option(names = "--goaway-after-streams", defaultValue = "0", description = "HTTP/2 GOAWAY after N streams per connection, 0 = off.")
    int goAwayAfterStreams;

    @Option(names = "--rate-limit-requests", paramLabel = "N", description = "Enforce a request budget of N per "
            + "--rate-limit-window: over it, 429 with retry-after. Any --rate-limit-* flag turns enforcement on; a "
            + "budget not given keeps its default (10000 requests, 2000000 tokens).")
    Long rateLimitRequests;

    @Option(names = "--rate-limit-tokens", paramLabel = "N", description = "Enforce a token budget of N per "
            + "--rate-limit-window (a request costs body bytes/4 plus max_tokens).")
    Long rateLimitTokens;

    @Option(names = "--rate-limit-window", paramLabel = "DURATION", converter = DurationConverter.Positive.class,
            description = "The time in which an empty budget refills completely, 1ms..24h (default: 60s).")
    Duration rateLimitWindow;

    @Option(names = "--rate-limit-draft-headers", description = "With an enforced limit, also send the IETF draft's "
            + "RateLimit-Policy and RateLimit headers.")
    boolean rateLimitDraftHeaders;

    /** A region of {@code --regions}: its name and answer delay. */
    record RegionSpec(String name, long delayMs) {
        static RegionSpec parse(String spec) {
            int colon = spec.lastIndexOf(':');
            String name = colon < 0 ? spec.trim() : spec.substring(0, colon).trim();
            String delay = colon < 0 ? "0ms" : spec.substring(colon + 1).trim().toLowerCase(java.util.Locale.ROOT);
            if (name.isEmpty()) {
                throw new IllegalArgumentException("--regions: empty region name in '" + spec + "'");
            }
            long ms;
            try {
                ms = new DurationConverter().convert(delay).toMillis();
            } catch (picocli.CommandLine.TypeConversionException e) {
                throw new IllegalArgumentException("--regions: bad delay '" + delay + "' for " + name + " ("
                        + DurationConverter.SYNTAX + ")");
            }
            if (ms < 0) {
                throw new IllegalArgumentException("--regions: negative delay for " + name);
            }
            return new RegionSpec(name, ms);
        }
    }

    /** The regions asked for, in order; empty without {@code --regions}. */
    java.util.List<RegionSpec> regionSpecs() {
        return regions == null ? java.util.List.of() : regions.stream().map(RegionSpec::parse).toList();
    }

    /** The options of region number {@code index}: its own ports and delay, the other flags shared. */
    MockOptions regionOptions(RegionSpec region, int index) {
        MockOptions base = options();
        return base.toBuilder()
                .tlsPort(tlsPort == 0 ? 0 : tlsPort + index)
                .plainPort(plainPort == 0 ? 0 : plainPort + index)
                .behavior(base.behavior().toBuilder().delayMs(region.delayMs()).build())
                .build();
    }

    /** The server options these flags describe; a value out of range is an {@link IllegalArgumentException}. */
    MockOptions options() {
        if (status != 0 && (status < 400 || status > 599)) {
            throw new IllegalArgumentException("--status must be 400..599 (or 0 for normal answers), got " + status);
        }
        if (!allowNonLoopback && !isLoopback(host)) {
            throw new IllegalArgumentException("--host " + host + " is not a loopback address; add "
                    + "--allow-non-loopback to expose the mock beyond this machine");
        }
        boolean enforce = rateLimitRequests != null || rateLimitTokens != null || rateLimitWindow != null;
        Duration window = rateLimitWindow == null ? Duration.ofSeconds(60) : rateLimitWindow;
        if (enforce) {
            checkRateLimitWindow(window);
        } else if (rateLimitDraftHeaders) {
            throw new IllegalArgumentException("--rate-limit-draft-headers needs an enforced limit: add "
                    + "--rate-limit-requests, --rate-limit-tokens or --rate-limit-window");
        }
        MockBehavior behavior = MockBehavior.builder()
                .tokens(tokens)
                .delayMs(delay.toMillis())
                .tokenDelayMs(tokenDelay.toMillis())
                .status(status)
                .retryAfterMs(retryAfter.toMillis())
                .errorAfterTokens(errorAfterTokens)
                .goAwayAfterStreams(goAwayAfterStreams)
                .build();
        MockOptions.Builder b = MockOptions.builder()
                .host(host)
                .tlsPort(tlsPort)
                .plainPort(plainPort)
                .allowNonLoopback(allowNonLoopback)
                .forceJdkSsl(jdkTls)
                .maxConcurrentStreams(maxStreams)
                .idleTimeout(idleTimeout)
                .maxRequestBodyBytes(maxBodyBytes)
                .ioThreads(ioThreads)
                .behavior(behavior)
                .enforceRateLimits(enforce)
                .rateLimitWindow(window)
                .rateLimitDraftHeaders(rateLimitDraftHeaders);
        if (rateLimitRequests != null) {
            b.rateLimitRequests(checkBudget("--rate-limit-requests", rateLimitRequests, window));
        }
        if (rateLimitTokens != null) {
            b.rateLimitTokens(checkBudget("--rate-limit-tokens", rateLimitTokens, window));
        }
        if (requiredKey != null) {
            b.requiredApiKey(requiredKey);
        }
        return b.build();
    }

    private static void checkRateLimitWindow(Duration window) {
        if (window.compareTo(MockOptions.MAX_RATE_LIMIT_WINDOW) > 0) {
            throw new IllegalArgumentException("--rate-limit-window must be at most 24h, got " + window.toMillis() + "ms");
        }
        if (window.toNanos() % 1_000_000 != 0) {
            throw new IllegalArgumentException("--rate-limit-window must be whole milliseconds, got " + window);
        }
    }

    /**
     * A budget is at least 1 and small enough for the mock's exact arithmetic over the window (see
     * MockOptions); checked here so the message names the flag, not the Java option.
     */
    private static long checkBudget(String flag, long n, Duration window) {
        long max = Long.MAX_VALUE / 2 / window.toMillis() - 1;
        if (n < 1) {
            throw new IllegalArgumentException(flag + " must be at least 1, got " + n);
        }
        if (n > max) {
            throw new IllegalArgumentException(flag + " must be at most " + max + " for a " + window.toMillis()
                    + "ms window, got " + n);
        }
        return n;
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        MockOptions options;
        java.util.List<RegionSpec> regionList;
        try {
            options = options();
            regionList = regionSpecs();
            if (certOut != null) {
                InputFiles.writable(spec.commandLine(), "--cert-out", certOut);
            }
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        if (!regionList.isEmpty()) {
            return runRegions(regionList);
        }
        MockProvider mock = start(options);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            mock.close();
            System.err.println("mock provider stopped");
            stopped.countDown();
        }, "sluice-mock-shutdown"));
        Path cert = writeCertificate(mock.certificatePem());
        PrintWriter out = spec.commandLine().getOut();
        out.println("listening https=" + mock.httpsUri() + " http=" + mock.httpUri() + " wss=" + mock.wssUri()
                + " ws=" + mock.wsUri() + " cert=" + cert);
        out.println();
        out.println("Sluice mock provider (" + mock.tlsProvider() + ", " + mock.transport() + ")");
        out.println("  HTTPS (h2, http/1.1): " + mock.httpsUri());
        out.println("  HTTP (http/1.1, h2c): " + mock.httpUri());
        out.println("  WebSocket:            " + mock.wssUri() + "  " + mock.wsUri());
        out.println("  certificate:          " + cert);
        if (options.enforceRateLimits()) {
            out.println("  rate limit:           " + options.rateLimitRequests() + " requests and "
                    + options.rateLimitTokens() + " tokens per " + options.rateLimitWindow().toMillis()
                    + " ms (token buckets; 429 with retry-after when exceeded)");
        }
        String auth = options.requiredApiKey() == null ? "" : " -H 'Authorization: Bearer " + options.requiredApiKey() + "'";
        out.println();
        out.println("Try:");
        out.println("  curl --cacert " + cert + auth + " " + mock.httpsUri() + "/v1/models");
        out.println("  curl -N --cacert " + cert + auth + " " + mock.httpsUri() + "/v1/chat/completions"
                + " -H 'content-type: application/json' -d '{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[]}'");
        out.println("Press Ctrl-C to stop.");
        out.flush();
        try {
            stopped.await();
        } finally {
            mock.close(); // also when the waiting thread is interrupted (in-process runs, tests)
        }
        return 0;
    }

    private int runRegions(java.util.List<RegionSpec> regionList) throws IOException, InterruptedException {
        java.util.List<MockProvider> mocks = new java.util.ArrayList<>();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            mocks.forEach(MockProvider::close);
            System.err.println("mock providers stopped");
            stopped.countDown();
        }, "sluice-mock-shutdown"));
        PrintWriter out = spec.commandLine().getOut();
        StringBuilder people = new StringBuilder();
        for (int i = 0; i < regionList.size(); i++) {
            RegionSpec region = regionList.get(i);
            MockOptions o;
            try {
                o = regionOptions(region, i);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
            }
            MockProvider mock;
            try {
                mock = start(o);
            } catch (RuntimeException e) {
                mocks.forEach(MockProvider::close); // the regions started before this one
                throw e;
            }
            mocks.add(mock);
            Path cert = writeCertificate(mock.certificatePem(), certOut == null ? null
                    : certOut.resolveSibling(region.name() + "-" + certOut.getFileName()));
            out.println("listening region=" + region.name() + " delay_ms=" + region.delayMs() + " https="
                    + mock.httpsUri() + " http=" + mock.httpUri() + " wss=" + mock.wssUri() + " ws=" + mock.wsUri()
                    + " cert=" + cert);
            people.append(String.format(java.util.Locale.ROOT, "  %-14s %5d ms  %s  %s%n", region.name(),
                    region.delayMs(), mock.httpsUri(), mock.httpUri()));
            people.append("                 try: curl --cacert ").append(cert).append(' ').append(mock.httpsUri())
                    .append("/ping\n");
        }
        out.println();
        out.println("Sluice mock providers, one per region (name, added delay, URLs):");
        out.print(people);
        out.println("Press Ctrl-C to stop.");
        out.flush();
        try {
            stopped.await();
        } finally {
            mocks.forEach(MockProvider::close); // also when the waiting thread is interrupted (in-process runs, tests)
        }
        return 0;
    }

    /**
     * Starts a mock; a port that cannot be bound (in use, or privileged) is a {@link CliFailure}
     * naming it, exit code 3.
     */
    private static MockProvider start(MockOptions o) {
        try {
            return MockProvider.start(o);
        } catch (IllegalStateException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("cannot bind")) {
                throw CliFailure.runtime(bindFailure(e) + " (choose other ports with --tls-port/--plain-port; "
                        + "0 = any free port)", e);
            }
            throw e;
        }
    }

    /** "cannot listen on HOST:PORT: reason", from the mock's bind failure. */
    private static String bindFailure(IllegalStateException e) {
        Throwable c = e.getCause();
        String where = e.getMessage().replaceFirst("^cannot bind the mock provider to ([^ ]+?): .*$", "$1");
        String why = c == null || c.getMessage() == null ? e.getMessage() : c.getMessage().toLowerCase(java.util.Locale.ROOT);
        return "cannot listen on " + where + ": " + why;
    }

    private static boolean isLoopback(String host) {
        try {
            return java.net.InetAddress.getByName(host).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("--host: cannot resolve '" + host + "'");
        }
    }

    private Path writeCertificate(String pem, Path target) throws IOException {
        if (target == null) {
            target = Files.createTempFile("sluice-mock-", ".pem");
            target.toFile().deleteOnExit();
        }
        Files.writeString(target, pem, StandardCharsets.US_ASCII);
        return target.toAbsolutePath();
    }

    private Path writeCertificate(String pem) throws IOException {
        Path target = certOut;
        if (target == null) {
            target = Files.createTempFile("sluice-mock-", ".pem");
            target.toFile().deleteOnExit();
        }
        Files.writeString(target, pem, StandardCharsets.US_ASCII);
        return target.toAbsolutePath();
    }
}

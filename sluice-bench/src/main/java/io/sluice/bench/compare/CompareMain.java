package io.sluice.bench.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Side-by-side comparison of Sluice with the JVM's other HTTP clients against the mock provider,
 * or against any HTTPS server with {@code --url}.
 *
 * <pre>
 * java -cp sluice-bench/target/benchmarks.jar io.sluice.bench.compare.CompareMain \
 *     [--json] [--requests N] [--concurrency C] [--clients a,b,...] [--mode throughput|memory] \
 *     [--warmup N] [--mock-warmup N] [--repeat N] [--memory-steps 100,1000,5000] [--no-h2load] \
 *     [--url https://host:port/path [--cacert ca.pem]]
 * </pre>
 *
 * <p>With {@code --url} no mock is started: every client sends the workload's POST to that URL
 * (throughput mode only; the memory mode needs the mock's delay header), trusting the JDK's
 * default CAs plus the {@code --cacert} PEM when given. "connections" is then what the client
 * process holds open at the end of its measured phase (the server's counters are not ours to
 * read). With {@code --repeat N} the clients run in N interleaved rounds (a, b, c, a, b, c, ...),
 * so that a drift of the machine or the server during the run spreads over every client.
 *
 * <p>Starts the mock provider in its own JVM ({@link MockMain}), then one JVM per client, one after
 * the other ({@link ClientRun}), with the same classpath as this JVM. The mock's counters are read
 * over its stdin before and after each client, so "connections" is what the server accepted while
 * that client ran (warm-up included). When {@code h2load} is on the PATH (Debian package
 * {@code nghttp2-client}), the same workload through it is reported as the server's ceiling.
 * The table (or JSON with {@code --json}) goes to stdout, progress to stderr. Exit code 0 when every
 * client ran, 1 when one failed to produce a result, 2 on bad arguments.
 *
 * <p>Clients: {@value #CLIENT_NAMES}. See each {@code *Peer} class for how it is configured.
 */
public final class CompareMain {
    static final String CLIENT_NAMES = "sluice, jdk, okhttp, apache, reactor-netty, jetty (and h2load)";
    private static final ObjectMapper JSON = new ObjectMapper();

    private CompareMain() {
    }

    /** Parsed command line. */
    static final class Options {
        boolean json;
        long requests = 200_000;
        int concurrency = 256;
        List<String> clients;
        String mode = "throughput";
        Long warmup;
        Long mockWarmup;
        List<Integer> memorySteps = List.of(100, 1000, 5000);
        int serverMaxStreams = 256;
        /** Throughput runs per client, each against a fresh mock; the report gives the median. */
        int repeat = 1;
        /** False with {@code --no-h2load}: neither warm the mock with h2load nor list it among the clients. */
        boolean useH2load = true;
        /** {@code --url}: an external server to run against instead of the mock; null for the mock. */
        java.net.URI url;
        /** {@code --cacert}: a PEM file of extra trust anchors for {@link #url}; null for the JDK's CAs only. */
        Path cacert;
    }

    public static void main(String[] args) {
        int rc;
        try {
            rc = run(args, System.out, System.err);
        } catch (IllegalArgumentException e) {
            System.err.println("compare: " + e.getMessage());
            rc = 2;
        } catch (Exception e) {
            // One line, exit code 3 (a runtime failure, as every sluice command reports it).
            System.err.println("compare: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            if (System.getenv("SLUICE_DEBUG") != null) {
                e.printStackTrace();
            }
            rc = 3;
        }
        System.exit(rc);
    }

    static Options parse(String[] args) {
        Options o = new Options();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--json" -> o.json = true;
                case "--requests" -> o.requests = Long.parseLong(value(args, ++i, a));
                case "--concurrency" -> o.concurrency = Integer.parseInt(value(args, ++i, a));
                case "--clients" -> o.clients = Arrays.stream(value(args, ++i, a).split(","))
                        .map(String::trim).filter(s -> !s.isEmpty()).toList();
                case "--mode" -> o.mode = value(args, ++i, a);
                case "--warmup" -> o.warmup = Long.parseLong(value(args, ++i, a));
                case "--mock-warmup" -> o.mockWarmup = Long.parseLong(value(args, ++i, a));
                case "--repeat" -> o.repeat = Integer.parseInt(value(args, ++i, a));
                case "--no-h2load" -> o.useH2load = false;
                case "--url" -> o.url = parseUrl(value(args, ++i, a));
                case "--cacert" -> o.cacert = Path.of(value(args, ++i, a));
                case "--memory-steps" -> o.memorySteps = Arrays.stream(value(args, ++i, a).split(","))
                        .map(String::trim).map(Integer::parseInt).toList();
                case "-h", "--help" -> throw new IllegalArgumentException("usage: CompareMain [--json] [--requests N] "
                        + "[--concurrency C] [--clients " + String.join(",", Peers.ALL) + ",h2load] "
                        + "[--mode throughput|memory] [--warmup N] [--mock-warmup N] [--repeat N] [--memory-steps 100,1000,5000] [--no-h2load] "
                        + "[--url https://host:port/path [--cacert ca.pem]]");
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        if (!o.mode.equals("throughput") && !o.mode.equals("memory")) {
            throw new IllegalArgumentException("--mode must be throughput or memory, got " + o.mode);
        }
        if (o.repeat < 1) {
            throw new IllegalArgumentException("--repeat must be >= 1");
        }
        if (o.requests < 1 || o.concurrency < 1) {
            throw new IllegalArgumentException("--requests and --concurrency must be >= 1");
        }
        if (o.url != null && o.mode.equals("memory")) {
            throw new IllegalArgumentException("--url runs the throughput mode only (the memory mode needs the mock)");
        }
        if (o.cacert != null && o.url == null) {
            throw new IllegalArgumentException("--cacert needs --url (the mock's certificate is trusted already)");
        }
        if (o.cacert != null) {
            if (!Files.isReadable(o.cacert)) {
                throw new IllegalArgumentException("--cacert " + o.cacert + ": no such readable file");
            }
            try {
                Tls.trustStore(Files.readString(o.cacert, StandardCharsets.US_ASCII));
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException("--cacert " + o.cacert + ": not a PEM certificate");
            }
        }
        if (o.memorySteps.size() < 2) {
            throw new IllegalArgumentException("--memory-steps needs at least two counts");
        }
        if (o.clients == null) {
            List<String> all = new ArrayList<>(Peers.ALL);
            if (o.mode.equals("throughput") && o.useH2load && H2load.available()) {
                all.add("h2load");
            }
            o.clients = all;
        }
        for (String c : o.clients) {
            if (!Peers.ALL.contains(c) && !Peers.EXTRA.contains(c) && !c.equals("h2load")) {
                throw new IllegalArgumentException("unknown client '" + c + "'; known: " + CLIENT_NAMES);
            }
        }
        return o;
    }

    /** An absolute {@code https} URL; the workload's path when it has none. */
    static java.net.URI parseUrl(String s) {
        java.net.URI u;
        try {
            u = new java.net.URI(s);
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("--url " + s + ": not a URL");
        }
        if (!"https".equalsIgnoreCase(u.getScheme()) || u.getHost() == null) {
            throw new IllegalArgumentException("--url " + s + ": needs https://host[:port][/path] "
                    + "(every client is compared over TLS with ALPN h2)");
        }
        if (u.getRawPath() == null || u.getRawPath().isEmpty()) {
            u = u.resolve(Workload.PATH);
        }
        return u;
    }

    private static String value(String[] args, int i, String opt) {
        if (i >= args.length) {
            throw new IllegalArgumentException(opt + " needs a value");
        }
        return args[i];
    }

    static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        Options o = parse(args);
        boolean memory = o.mode.equals("memory");
        int rc = 0;
        ArrayNode results = JSON.createArrayNode();
        int runs = memory ? 1 : o.repeat;
        // Interleaved rounds: every client once per round, so that a drift of the machine or of the server
        // during the run lands on every client alike rather than on whichever ran last.
        java.util.Map<String, List<ObjectNode>> each = new java.util.LinkedHashMap<>();
        for (int k = 0; k < runs; k++) {
            if (runs > 1) {
                err.println("[compare] round " + (k + 1) + " of " + runs);
            }
            for (String client : o.clients) {
                ObjectNode r;
                try {
                    r = o.url != null ? runAgainstUrl(client, o, err) : runAgainstFreshMock(client, o, memory, err);
                } catch (Exception e) {
                    err.println("[compare] " + client + " failed: " + e);
                    r = null;
                }
                List<ObjectNode> list = each.computeIfAbsent(client, c -> new ArrayList<>());
                if (r != null) {
                    list.add(r);
                }
            }
        }
        for (java.util.Map.Entry<String, List<ObjectNode>> e : each.entrySet()) {
            if (e.getValue().size() < runs) {
                rc = 1;
            }
            if (!e.getValue().isEmpty()) {
                results.add(runs == 1 ? e.getValue().get(0) : Report.median(e.getValue()));
            }
        }
        ObjectNode doc = JSON.createObjectNode();
        doc.put("mode", o.mode);
        if (!memory) {
            doc.put("requests", o.requests);
            doc.put("concurrency", o.concurrency);
            doc.put("repeat", o.repeat);
            doc.put("target", o.url != null ? o.url.toString() : "mock");
        }
        doc.set("results", results);
        doc.set("machine", Report.machine());
        if (o.json) {
            out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(doc));
        } else {
            out.print(memory ? Report.memoryTable(doc) : Report.throughputTable(doc));
        }
        out.flush();
        return rc;
    }

    /**
     * One client against a mock of its own, started and warmed the same way for every client. With one mock for
     * the whole run, the server kept warming up for minutes (JIT, heap sizing): the client that ran first measured
     * 7 940-10 752 req/s and the same client run third 13 400-19 600, so the order decided the ranking.
     */
    private static ObjectNode runAgainstFreshMock(String client, Options o, boolean memory, PrintStream err)
            throws Exception {
        try (MockProcess mock = MockProcess.start(err, memory ? 1 : o.serverMaxStreams, memory ? 0 : 60_000)) {
            err.println("[compare] mock provider for " + client + ": " + mock.banner);
            if (client.equals("h2load")) {
                if (memory) {
                    return null;
                }
                warmMock(mock, o, err);
                return H2load.run(mock.https + Workload.PATH, mock, o, err);
            }
            if (!memory) {
                warmMock(mock, o, err);
            }
            return runClient(client, mock, java.net.URI.create(mock.https + Workload.PATH), mock.certPath, o, err);
        }
    }

    /** One client against the {@code --url} server: nothing to start, nothing to warm but the client itself. */
    private static ObjectNode runAgainstUrl(String client, Options o, PrintStream err) throws Exception {
        if (client.equals("h2load")) {
            return H2load.run(o.url.toString(), null, o, err);
        }
        return runClient(client, null, o.url, o.cacert != null ? o.cacert.toString() : "-", o, err);
    }

    /**
     * Warms a mock's JVM before its client, so that the client does not pay for the server's JIT:
     * h2load when installed (and not turned off with {@code --no-h2load}), otherwise Sluice from this JVM.
     *
     * <p>The in-JVM warm-up must close its connections when it is done: {@link #runClient} first waits
     * until the mock has no open connection ({@link MockProcess#awaitQuiet}). It used the JDK client
     * before, and Java 17's {@code HttpClient} cannot be closed, so its connections stayed open until the
     * mock's 60 s idle timeout, and every client without h2load paid a 60 s wait (the JUnit run of two
     * clients hit its 120 s timeout on machines without h2load). Sluice's {@code close()} closes them.
     */
    private static void warmMock(MockProcess mock, Options o, PrintStream err) throws Exception {
        // 12 500 requests on 2 connections left the mock cold: the first client measured 7 940 req/s, the same
        // client third in the run 13 400-19 600. Twice the workload, on 16 connections at its concurrency.
        long n = o.mockWarmup != null ? o.mockWarmup : Math.max(2_000, Math.min(400_000, o.requests * 2));
        if (n <= 0) {
            return;
        }
        if (o.useH2load && H2load.available()) {
            err.println("[compare] warming the mock provider with " + n + " requests (h2load)");
            int threads = Runtime.getRuntime().availableProcessors();
            Path body = Files.createTempFile("compare-body-", ".json");
            try {
                Files.write(body, Workload.BODY);
                H2load.exec(H2load.h2loadCommand(n, 16, Math.max(1, o.concurrency / 16), threads, body, null,
                        mock.https + Workload.PATH), err);
            } finally {
                Files.deleteIfExists(body);
            }
            return;
        }
        err.println("[compare] warming the mock provider with " + n + " requests (sluice, in this JVM)");
        String pem = Files.readString(Path.of(mock.certPath));
        LoadDriver.Outcome w;
        try (Peer warm = Peers.create("sluice", new PeerConfig(java.net.URI.create(mock.https + Workload.PATH), pem, 64, false, 0))) {
            w = LoadDriver.closedLoop(warm, n, 64, 0, java.time.Duration.ofMinutes(5));
        }
        if (w.errors() > 0) {
            err.println("[compare] mock warm-up: " + w.errors() + " of " + n + " requests failed, first: " + w.firstError());
        }
    }

    /**
     * Runs one client in its own JVM against {@code target}. {@code mock} is the mock provider serving it (its
     * counters give the connections the client opened), or null for an external server.
     */
    private static ObjectNode runClient(String client, MockProcess mock, java.net.URI target, String certArg,
                                        Options o, PrintStream err) throws Exception {
        boolean memory = o.mode.equals("memory");
        JsonNode before = mock != null ? mock.awaitQuiet(err) : JSON.createObjectNode();
        List<String> cmd = new ArrayList<>(javaCommand());
        if (memory) {
            // A fixed, pre-touched heap keeps the Java heap's share of the RSS constant; Native Memory Tracking
            // tells the JVM's own native growth (compiler arenas, code cache) apart from the libraries'.
            cmd.addAll(List.of("-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch", "-XX:NativeMemoryTracking=summary"));
        } else {
            cmd.addAll(List.of("-Xms1g", "-Xmx1g"));
            if (o.warmup != null) {
                cmd.add("-Dcompare.warmup=" + o.warmup);
            }
            cmd.add("-Dcompare.serverMaxStreams=" + o.serverMaxStreams);
        }
        cmd.addAll(List.of("-cp", classpath(), ClientRun.class.getName(), client, target.toString(), certArg));
        int maxConn = o.memorySteps.get(o.memorySteps.size() - 1);
        if (memory) {
            cmd.addAll(List.of(Integer.toString(maxConn), "1", "memory",
                    String.join(",", o.memorySteps.stream().map(String::valueOf).toList())));
        } else {
            cmd.addAll(List.of(Long.toString(o.requests), Integer.toString(o.concurrency)));
        }
        err.println("[compare] " + client + ": " + String.join(" ", cmd.subList(cmd.indexOf(ClientRun.class.getName()), cmd.size())));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        if (memory) {
            pb.environment().put("MALLOC_ARENA_MAX", "2");
            pb.environment().put("MALLOC_TRIM_THRESHOLD_", "65536");
        }
        Process p = pb.start();
        long deadlineSec = memory ? 1_800 : 300 + o.requests / 200 + (o.warmup != null ? o.warmup : o.requests / 10) / 200;
        Thread watchdog = new Thread(() -> {
            try {
                if (!p.waitFor(deadlineSec, TimeUnit.SECONDS)) {
                    err.println("[compare] " + client + " exceeded " + deadlineSec + " s; killing it");
                    p.destroyForcibly();
                }
            } catch (InterruptedException ignored) {
                // run finished
            }
        }, "compare-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        ObjectNode result = null;
        ArrayNode openAtStep = JSON.createArrayNode();
        long openBefore = before.path("connectionsOpen").asLong();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             Writer w = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8)) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("RESULT ")) {
                    result = (ObjectNode) JSON.readTree(line.substring(7));
                } else if (line.startsWith("STEP ")) {
                    Thread.sleep(500); // let closes/accepts reach the server's counters
                    JsonNode s = mock.stats();
                    openAtStep.add(s.path("connectionsOpen").asLong() - openBefore);
                    w.write("go\n");
                    w.flush();
                    result = result == null ? JSON.createObjectNode() : result;
                    ((ArrayNode) result.withArray("steps_seen")).add(JSON.readTree(line.substring(5)));
                } else {
                    err.println("[" + client + " stdout] " + line);
                }
            }
        }
        int exit = p.waitFor();
        watchdog.interrupt();
        if (exit != 0 || result == null || !result.has("client")) {
            err.println("[compare] " + client + " exited with " + exit + " and no result");
            return null;
        }
        result.remove("steps_seen");
        long accepted = mock != null
                ? mock.stats().path("connectionsAccepted").asLong() - before.path("connectionsAccepted").asLong()
                : result.path("client_sockets").asLong(-1);
        if (memory) {
            return Report.memoryResult(result, openAtStep, accepted);
        }
        // Keep the documented field order: client, rps, p50_ms, p99_ms, cpu_us_per_request, connections, heap_bytes, errors.
        ObjectNode ordered = JSON.createObjectNode();
        ordered.set("client", result.get("client"));
        ordered.set("rps", result.get("rps"));
        ordered.set("p50_ms", result.get("p50_ms"));
        ordered.set("p99_ms", result.get("p99_ms"));
        ordered.set("cpu_us_per_request", result.get("cpu_us_per_request"));
        ordered.put("connections", accepted);
        ordered.set("heap_bytes", result.get("heap_bytes"));
        ordered.set("errors", result.get("errors"));
        ordered.set("alloc_bytes_per_request", result.get("alloc_bytes_per_request"));
        ordered.set("client_sockets", result.get("client_sockets"));
        ordered.set("protocol", result.get("protocol"));
        ordered.set("concurrency", result.get("concurrency"));
        ordered.set("requests", result.get("requests"));
        ordered.set("warmup_requests", result.get("warmup_requests"));
        ordered.set("warmup_errors", result.get("warmup_errors"));
        ordered.set("first_error", result.get("first_error"));
        ordered.set("config", result.get("config"));
        return ordered;
    }

    static List<String> javaCommand() {
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** The classpath of this JVM: the shaded benchmarks.jar when launched as documented. */
    static String classpath() {
        return System.getProperty("java.class.path");
    }

    /** The mock provider's JVM and its command channel. */
    static final class MockProcess implements AutoCloseable {
        final Process process;
        final BufferedReader out;
        final Writer in;
        final String banner;
        final String https;
        final String certPath;

        private MockProcess(Process p, BufferedReader out, Writer in, String banner) {
            this.process = p;
            this.out = out;
            this.in = in;
            this.banner = banner;
            this.https = field(banner, "https");
            this.certPath = field(banner, "cert");
        }

        static MockProcess start(PrintStream err, int maxStreams, long idleMs) throws IOException {
            List<String> cmd = new ArrayList<>(javaCommand());
            cmd.addAll(List.of("-Xms1g", "-Xmx2g", "-cp", classpath(), MockMain.class.getName(),
                    "--max-streams", Integer.toString(maxStreams), "--idle-timeout-ms", Long.toString(idleMs)));
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            Writer in = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8);
            String line;
            while ((line = out.readLine()) != null && !line.startsWith("listening ")) {
                err.println("[mock stdout] " + line);
            }
            if (line == null) {
                p.destroyForcibly();
                throw new IOException("the mock provider exited before listening");
            }
            return new MockProcess(p, out, in, line);
        }

        private static String field(String banner, String key) {
            for (String part : banner.split(" ")) {
                if (part.startsWith(key + "=")) {
                    return part.substring(key.length() + 1);
                }
            }
            throw new IllegalStateException("no " + key + "= in '" + banner + "'");
        }

        /**
         * Waits (up to 60 s) until the previous client's connections have closed on the server side,
         * so that the open-connection count of the next client starts from an empty server.
         */
        JsonNode awaitQuiet(PrintStream err) throws IOException, InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            JsonNode s = stats();
            if (s.path("connectionsOpen").asLong() > 0) {
                err.println("[compare] waiting (up to 60 s) for " + s.path("connectionsOpen").asLong()
                        + " connections to close on the mock");
            }
            while (s.path("connectionsOpen").asLong() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(200);
                s = stats();
            }
            if (s.path("connectionsOpen").asLong() > 0) {
                err.println("[compare] " + s.path("connectionsOpen").asLong() + " connections still open on the mock");
            }
            return s;
        }

        synchronized JsonNode stats() throws IOException {
            in.write("stats\n");
            in.flush();
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("STATS ")) {
                    return JSON.readTree(line.substring(6));
                }
            }
            throw new IOException("the mock provider exited");
        }

        @Override
        public void close() throws InterruptedException {
            try {
                in.write("quit\n");
                in.flush();
            } catch (IOException ignored) {
                // already gone
            }
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    /** The same workload through h2load: no JVM, the server's ceiling on this machine. */
    static final class H2load {
        private H2load() {
        }

        static boolean available() {
            String path = System.getenv("PATH");
            if (path == null) {
                return false;
            }
            for (String dir : path.split(File.pathSeparator)) {
                if (Files.isExecutable(Path.of(dir, "h2load"))) {
                    return true;
                }
            }
            return false;
        }

        /** Runs h2load against {@code url}; {@code mock} (null for an external server) counts its connections. */
        static ObjectNode run(String url, MockProcess mock, Options o, PrintStream err) throws Exception {
            if (!available()) {
                err.println("[compare] h2load is not installed (apt-get install nghttp2-client); skipped");
                return null;
            }
            Path body = Files.createTempFile("compare-body-", ".json");
            Path log = Files.createTempFile("compare-h2load-", ".log");
            try {
                Files.write(body, Workload.BODY);
                int threads = Runtime.getRuntime().availableProcessors();
                int conns = Math.max(1, Math.min(threads, o.concurrency));
                int streams = (o.concurrency + conns - 1) / conns;
                long warm = o.warmup != null ? o.warmup : Math.max(200, o.requests / 10);
                err.println("[compare] h2load warm-up: " + warm + " requests");
                exec(h2loadCommand(warm, conns, streams, threads, body, null, url), err);
                JsonNode before = mock != null ? mock.stats() : null;
                err.println("[compare] h2load: " + o.requests + " requests, " + conns + " connections x " + streams
                        + " streams, " + threads + " threads");
                String output = exec(h2loadCommand(o.requests, conns, streams, threads, body, log, url), err);
                JsonNode after = mock != null ? mock.stats() : null;
                Histogram h = new Histogram(3);
                long errors = 0;
                for (String line : Files.readAllLines(log)) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length < 3) {
                        continue;
                    }
                    if (!f[1].equals("200")) {
                        errors++;
                    } else {
                        h.recordValue(Long.parseLong(f[2]) * 1_000L); // µs → ns
                    }
                }
                long ok = h.getTotalCount();
                errors += Math.max(0, o.requests - ok - errors);
                double seconds = parseSeconds(output);
                double cpuSeconds = parseChildCpu(output);
                ObjectNode r = JSON.createObjectNode();
                r.put("client", "h2load");
                r.put("rps", ClientRun.round(ok / seconds, 1));
                r.put("p50_ms", ClientRun.round(h.getValueAtPercentile(50) / 1e6, 3));
                r.put("p99_ms", ClientRun.round(h.getValueAtPercentile(99) / 1e6, 3));
                r.put("cpu_us_per_request", ClientRun.round(cpuSeconds * 1e6 / o.requests, 2));
                r.put("connections", mock != null
                        ? after.path("connectionsAccepted").asLong() - before.path("connectionsAccepted").asLong() : conns);
                r.putNull("heap_bytes");
                r.put("errors", errors);
                r.put("protocol", "h2");
                r.put("concurrency", conns * streams);
                r.put("requests", o.requests);
                r.put("config", "h2load -c " + conns + " -m " + streams + " -t " + threads + " (nghttp2, C)");
                return r;
            } finally {
                Files.deleteIfExists(body);
                Files.deleteIfExists(log);
            }
        }

        static List<String> h2loadCommand(long n, int conns, int streams, int threads, Path body, Path log,
                                                  String url) {
            StringBuilder sh = new StringBuilder("h2load -n ").append(n).append(" -c ").append(conns).append(" -m ")
                    .append(streams).append(" -t ").append(threads).append(" -d ").append(body)
                    .append(" -H 'content-type: application/json' -H 'authorization: ").append(Workload.AUTHORIZATION)
                    .append("'");
            if (log != null) {
                sh.append(" --log-file ").append(log);
            }
            sh.append(" ").append(url).append("; rc=$?; times; exit $rc");
            return List.of("bash", "-c", sh.toString());
        }

        static String exec(List<String> cmd, PrintStream err) throws Exception {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int rc = p.waitFor();
            if (rc != 0) {
                err.println(output);
                throw new IOException("h2load exited with " + rc);
            }
            return output;
        }

        /** "finished in 3.02s, 66225.41 req/s, ..." */
        static double parseSeconds(String output) {
            for (String line : output.split("\n")) {
                line = line.trim();
                if (line.startsWith("finished in ")) {
                    String v = line.substring("finished in ".length(), line.indexOf(','));
                    if (v.endsWith("ms")) {
                        return Double.parseDouble(v.substring(0, v.length() - 2)) / 1e3;
                    }
                    return Double.parseDouble(v.substring(0, v.length() - 1));
                }
            }
            throw new IllegalStateException("no 'finished in' line in h2load output:\n" + output);
        }

        /** bash {@code times}: the second line is the children's user and system time, "0m1.234s 0m0.567s". */
        static double parseChildCpu(String output) {
            String[] lines = output.trim().split("\n");
            String last = lines[lines.length - 1].trim();
            double total = 0;
            for (String t : last.split("\\s+")) {
                int m = t.indexOf('m');
                total += Double.parseDouble(t.substring(0, m)) * 60 + Double.parseDouble(t.substring(m + 1, t.length() - 1));
            }
            return total;
        }
    }

    static String fmt(String f, Object... a) {
        return String.format(Locale.ROOT, f, a);
    }
}

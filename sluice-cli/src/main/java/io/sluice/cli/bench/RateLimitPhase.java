package io.sluice.cli.bench;

import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import io.sluice.testkit.MockStats;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import redis.embedded.RedisServer;

/**
 * The optional {@code rate_limits} phase ({@code ./sluice bench --rate-limits}): several client processes share
 * one API key against a mock provider that enforces a request limit (a token bucket of {@code limit} refilled
 * over {@code window}, as providers describe theirs), three times: without shaping, each process with its own
 * local {@code RateLimiter}, and with the fleet budget on Redis (an embedded {@code redis-server} this phase
 * starts on a free loopback port). Each client ({@link RateLimitChild}, a JVM of its own) keeps {@code inFlight}
 * requests outstanding for {@code windows} windows, status retries off, and counts 2xx, 429 and other outcomes
 * per window. The mock runs in this process, which does nothing else meanwhile.
 *
 * <p>The mock's bucket starts full, so the first window can complete up to twice the limit (the full bucket plus
 * its refill); throughput is therefore measured over the windows after the first, where only the refill admits.
 * The fleet mode's target: no 429 after the first window and that throughput within 5 % of the limit.
 *
 * <p><b>Thread-safety:</b> stateless between runs; one run at a time.
 */
public final class RateLimitPhase implements Phase {
    // public constants, so that the command's help text (annotation values) is built from the same numbers
    public static final int CHILDREN = 4;
    public static final int LIMIT = 120;
    public static final int WINDOW_SECONDS = 10;
    static final Duration WINDOW = Duration.ofSeconds(WINDOW_SECONDS);
    public static final int WINDOWS = 3;
    static final int IN_FLIGHT = 16;
    /** The fleet mode's throughput target: within this fraction of the limit. */
    static final double TOLERANCE = 0.05;
    static final String KEY = "sk-bench-rate-limits";
    static final List<String> MODES = List.of("none", "local", "fleet");
    /** JVM flags of each client: small and quiet, so that four of them fit beside the mock on two cores. */
    static final List<String> CHILD_JVM_FLAGS = List.of("-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

    private final int children;
    private final int limit;
    private final Duration window;
    private final int windows;
    private final int inFlight;

    public RateLimitPhase() {
        this(CHILDREN, LIMIT, WINDOW, WINDOWS, IN_FLIGHT);
    }

    /** A smaller run of the same shape, for tests. */
    RateLimitPhase(int children, int limit, Duration window, int windows, int inFlight) {
        if (windows < 2) {
            throw new IllegalArgumentException("at least two windows: throughput is measured after the first");
        }
        this.children = children;
        this.limit = limit;
        this.window = window;
        this.windows = windows;
        this.inFlight = inFlight;
    }

    @Override
    public String id() {
        return "rate_limits";
    }

    @Override
    public PhaseResult run(BenchContext ctx) throws Exception {
        PhaseResult r = new PhaseResult(id(), "Shared rate limit: " + children + " processes, one key (none / local / fleet)");
        if (!ctx.target().embedded()) {
            return r.skip("needs the phase's own limited mock (not available with --url)");
        }
        long windowMs = window.toMillis();
        double perMinute = limit * 60_000.0 / windowMs;
        MockOptions mo = MockOptions.builder().enforceRateLimits(true).rateLimitRequests(limit)
                .rateLimitTokens(1_000_000_000L).rateLimitWindow(window).build();
        Path cacert = Files.createTempFile("sluice-bench-ratelimit", ".pem");
        int redisPort = freePort();
        RedisServer redis = RedisServer.newRedisServer().port(redisPort).bind("127.0.0.1").setting("save \"\"")
                .setting("appendonly no").build();
        Map<String, Map<String, Object>> byMode = new LinkedHashMap<>();
        long errors = 0;
        try (MockProvider mock = MockProvider.start(mo)) {
            Files.writeString(cacert, mock.certificatePem());
            redis.start();
            for (String mode : MODES) {
                mock.resetRateLimits();
                mock.resetCounters();
                ctx.progress().start("rate_limits: " + mode + ", " + children + " clients × " + windows + " windows of "
                        + windowMs / 1000.0 + " s", (long) children * windows, null);
                Map<String, Object> m;
                try {
                    m = runMode(ctx, mode, mock, cacert, "redis://127.0.0.1:" + redisPort, windowMs, perMinute);
                } finally {
                    ctx.progress().finish();
                }
                MockStats s = mock.stats();
                m.put("mock_admitted", s.rateLimitAdmitted());
                m.put("mock_rejected_429", s.rateLimitRejected());
                errors += ((Number) m.get("other")).longValue();
                byMode.put(mode, m);
            }
        } finally {
            if (redis.isActive()) {
                redis.stop();
            }
            Files.deleteIfExists(cacert);
        }
        r.metric("processes", children);
        r.metric("in_flight_per_process", inFlight);
        r.metric("limit", limit + " requests per " + windowMs / 1000.0 + " s (" + Num.round(perMinute, 1) + " per minute)");
        r.metric("limit_per_minute", Num.round(perMinute, 1));
        r.metric("windows", windows);
        r.metric("window_s", windowMs / 1000.0);
        // side by side: one metric per figure, one entry per mode
        for (String figure : List.of("r429_total", "r429_after_first_window", "completed_total",
                "completed_per_minute", "ratio_to_limit", "other")) {
            Map<String, Object> row = new LinkedHashMap<>();
            byMode.forEach((mode, m) -> row.put(mode, m.get(figure)));
            r.metric(figure, row);
        }
        for (Map.Entry<String, Map<String, Object>> e : byMode.entrySet()) {
            r.metric("mode_" + e.getKey(), e.getValue());
        }
        Map<String, Object> fleet = byMode.get("fleet");
        long fleetLate429 = ((Number) fleet.get("r429_after_first_window")).longValue();
        double fleetRatio = ((Number) fleet.get("ratio_to_limit")).doubleValue();
        boolean pass = fleetLate429 == 0 && Math.abs(fleetRatio - 1) <= TOLERANCE;
        r.metric("fleet_target", "0 429s after the first window, completed per minute within "
                + Math.round(TOLERANCE * 100) + " % of the limit");
        r.metric("fleet_verdict", pass ? "PASS" : "FAIL");
        r.note("Each process (a JVM of its own) keeps " + inFlight + " requests outstanding with the same API key, "
                + "status retries off (a 429 is counted, not retried), against the mock enforcing " + limit
                + " requests per " + windowMs / 1000.0 + " s (a token bucket: it starts full and refills continuously)."
                + " none: no limiter; local: a RateLimiter per process (provider headers only); fleet: RateLimiter."
                + "Builder.fleet(RedisBudgets) on one embedded redis-server.");
        r.note("completed_per_minute and ratio_to_limit count the windows after the first (the first also spends the"
                + " bucket's initial fill, up to twice the limit); responses are counted in the window they completed;"
                + " those completing after the last window are not counted.");
        return r.errors(errors);
    }

    private Map<String, Object> runMode(BenchContext ctx, String mode, MockProvider mock, Path cacert, String redisUri,
            long windowMs, double perMinute) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String prefix = "sluice:bench:" + ProcessHandle.current().pid() + ":" + System.nanoTime() + ":";
        List<Process> procs = new ArrayList<>();
        List<Path> errs = new ArrayList<>();
        try {
            for (int i = 0; i < children; i++) {
                List<String> cmd = new ArrayList<>();
                cmd.add(java);
                cmd.addAll(CHILD_JVM_FLAGS);
                cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), RateLimitChild.class.getName(),
                        "--url", mock.httpsUri().toString(), "--cacert", cacert.toString(), "--key", KEY,
                        "--mode", mode, "--redis", redisUri, "--prefix", prefix, "--in-flight", String.valueOf(inFlight),
                        "--window-ms", String.valueOf(windowMs), "--windows", String.valueOf(windows)));
                Path err = Files.createTempFile("sluice-ratelimit-child", ".err");
                errs.add(err);
                procs.add(new ProcessBuilder(cmd).redirectError(err.toFile()).start());
            }
            List<BufferedReader> outs = new ArrayList<>();
            for (Process p : procs) {
                outs.add(new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
            }
            // every client ready (connection open; Redis answering in fleet mode) before any starts
            for (int i = 0; i < children; i++) {
                String line = readLine(outs.get(i), 90);
                if (!"ready".equals(line)) {
                    throw new IllegalStateException("rate-limit client " + i + " (" + mode + ") did not start: " + line
                            + " (stderr: " + tail(errs.get(i)) + ")");
                }
            }
            long start = System.currentTimeMillis() + 300;
            for (Process p : procs) {
                Writer w = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8);
                w.write("go " + start + "\n");
                w.flush();
            }
            long[] ok = new long[windows];
            long[] r429 = new long[windows];
            long[] other = new long[windows];
            Map<String, Long> limiter = new LinkedHashMap<>();
            List<String> sampleErrors = new ArrayList<>();
            long deadlineS = (windowMs * windows) / 1000 + 60;
            for (int i = 0; i < children; i++) {
                while (true) {
                    String line = readLine(outs.get(i), deadlineS);
                    if (line == null) {
                        throw new IllegalStateException("rate-limit client " + i + " (" + mode + ") ended early (stderr: "
                                + tail(errs.get(i)) + ")");
                    } else if (line.equals("done")) {
                        break;
                    } else if (line.startsWith("error ")) {
                        throw new IllegalStateException("rate-limit client " + i + " (" + mode + "): " + line.substring(6));
                    } else if (line.startsWith("window ")) {
                        String[] parts = line.split(" ");
                        int w = Integer.parseInt(parts[1]);
                        Map<String, Long> f = fields(line);
                        ok[w] += f.get("ok");
                        r429[w] += f.get("r429");
                        other[w] += f.get("other");
                        ctx.progress().done(1);
                    } else if (line.startsWith("stats ")) {
                        fields(line).forEach((k, v) -> limiter.merge(k, v, Long::sum));
                    } else if (line.startsWith("sample-error ")) {
                        sampleErrors.add(line.substring("sample-error ".length()));
                    }
                }
            }
            long okAll = 0;
            long r429All = 0;
            long otherAll = 0;
            long okAfterFirst = 0;
            long r429AfterFirst = 0;
            for (int w = 0; w < windows; w++) {
                okAll += ok[w];
                r429All += r429[w];
                otherAll += other[w];
                if (w > 0) {
                    okAfterFirst += ok[w];
                    r429AfterFirst += r429[w];
                }
            }
            double steadyPerMinute = okAfterFirst * 60_000.0 / (windowMs * (windows - 1));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("r429_total", r429All);
            m.put("r429_after_first_window", r429AfterFirst);
            m.put("completed_total", okAll);
            m.put("completed_per_minute", Num.round(steadyPerMinute, 1));
            m.put("ratio_to_limit", Num.round(steadyPerMinute / perMinute, 3));
            m.put("completed_per_minute_all_windows", Num.round(okAll * 60_000.0 / (windowMs * windows), 1));
            m.put("other", otherAll);
            m.put("completed_per_window", toList(ok));
            m.put("r429_per_window", toList(r429));
            if (!limiter.isEmpty()) {
                m.put("limiter", limiter);
            }
            if (!sampleErrors.isEmpty()) {
                m.put("sample_error", sampleErrors.get(0));
            }
            return m;
        } finally {
            for (Process p : procs) {
                p.destroy();
            }
            for (Process p : procs) {
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            }
            for (Path e : errs) {
                Files.deleteIfExists(e);
            }
        }
    }

    private static List<Long> toList(long[] a) {
        List<Long> out = new ArrayList<>();
        for (long v : a) {
            out.add(v);
        }
        return out;
    }

    /** {@code name=value} pairs of a child's line, as numbers. */
    static Map<String, Long> fields(String line) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (String part : line.split(" ")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                out.put(part.substring(0, eq), Long.parseLong(part.substring(eq + 1)));
            }
        }
        return out;
    }

    private static String readLine(BufferedReader in, long timeoutSeconds) throws Exception {
        try {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    return in.readLine();
                } catch (IOException e) {
                    return null;
                }
            }).get(timeoutSeconds, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("a rate-limit client said nothing for " + timeoutSeconds + " s");
        }
    }

    private static String tail(Path err) {
        try {
            String s = Files.readString(err, StandardCharsets.UTF_8).strip();
            return s.isEmpty() ? "empty" : s.lines().reduce((a, b) -> b).orElse(s);
        } catch (IOException e) {
            return "unreadable";
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}

package io.sluice.cli.bench;

import io.sluice.cli.Terminal;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the phases in order against one target and builds the {@link BenchReport}. A phase that throws
 * is recorded as failed (its criteria FAIL) and the run goes on.
 *
 * <p><b>Thread-safety:</b> one {@link #run()} per instance.
 */
public final class BenchRunner {
    /** How long the one request that checks a {@code --url} target may take before the run is abandoned. */
    static final Duration TARGET_CHECK_TIMEOUT = Duration.ofSeconds(10);

    private final BenchOptions options;
    private final PrintStream progressOut;
    private final Terminal terminal;

    /** A run whose progress goes to {@code progressOut}, which is a terminal or not as {@code terminal} says. */
    public BenchRunner(BenchOptions options, PrintStream progressOut, Terminal terminal) {
        this.options = options;
        this.progressOut = progressOut;
        this.terminal = terminal;
    }

    /** A run with plain progress lines (not a terminal). */
    public BenchRunner(BenchOptions options, PrintStream progressOut) {
        this(options, progressOut, Terminal.PLAIN);
    }

    /** The phases of the default run, in order. */
    public static List<Phase> phases() {
        return List.of(new TlsPhase(), new MemoryPhase(), new AcquirePhase(), new StreamsPhase(), new ScalingPhase(),
                new HealthPhase(), new ClientMetricsPhase());
    }

    /**
     * The phases {@code options} asks for: the default ones, then the optional 100 000-stream phase, then the
     * optional shared-rate-limit phase.
     */
    static List<Phase> phases(BenchOptions options) {
        List<Phase> all = new ArrayList<>(phases());
        if (options.hundredK()) {
            all.add(new HundredKPhase());
        }
        if (options.rateLimits()) {
            all.add(new RateLimitPhase());
        }
        return all;
    }

    /**
     * Runs every phase.
     *
     * @throws BenchTarget.TargetUnreachableException when a {@code --url} target does not answer one
     *         request before the phases start
     */
    public BenchReport run() {
        long start = System.nanoTime();
        Map<String, Object> env = new LinkedHashMap<>();
        env.put("started", Instant.now().toString());
        env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        env.put("cpus", Runtime.getRuntime().availableProcessors());
        env.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        env.put("max_heap_bytes", Runtime.getRuntime().maxMemory());
        env.put("open_file_limit", MemoryProbe.openFileLimit());
        env.put("mode", options.quick() ? "quick" : "full");
        List<PhaseResult> results = new ArrayList<>();
        Map<String, PhaseResult> byId = new LinkedHashMap<>();
        try (BenchTarget target = options.embedded() ? BenchTarget.startMock()
                : BenchTarget.foreign(options.url(), options.cacert(), options.insecure());
             ProgressLine progress = new ProgressLine(progressOut, terminal, options.progress())) {
            if (!target.embedded()) {
                target.checkReachable(TARGET_CHECK_TIMEOUT);
            }
            env.put("target", target.embedded() ? "embedded mock provider (" + target.mock().tlsProvider() + ", "
                    + target.mock().transport() + ") " + target.main() : target.main().toString());
            BenchContext ctx = new BenchContext(options, target, progress);
            for (Phase phase : phases(options)) {
                long t0 = System.nanoTime();
                PhaseResult r;
                try {
                    r = phase.run(ctx);
                } catch (Exception | AssertionError e) {
                    progress.finish();
                    r = new PhaseResult(phase.id(), phase.id());
                    r.metric("phase_error", LoadDriver.describe(e));
                    r.errors(1);
                }
                r.durationMillis((System.nanoTime() - t0) / 1_000_000);
                results.add(r);
                byId.put(r.id(), r);
                if (phase instanceof TlsPhase && r.metrics().get("tls_provider") != null) {
                    env.put("client_tls_provider", r.metrics().get("tls_provider"));
                    env.put("client_native_transport", r.metrics().get("native_transport"));
                }
            }
        }
        long errors = results.stream().mapToLong(PhaseResult::errors).sum();
        return new BenchReport(env, Criteria.evaluate(byId), results, errors, (System.nanoTime() - start) / 1_000_000);
    }
}

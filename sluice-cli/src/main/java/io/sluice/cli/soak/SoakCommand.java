package io.sluice.cli.soak;

import java.time.Duration;
import io.sluice.cli.DurationConverter;
import io.sluice.cli.ExitCode;
import io.sluice.cli.StatusLine;
import io.sluice.cli.Terminal;
import picocli.CommandLine;
import picocli.CommandLine.Spec;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sluice soak}: a mixed workload with random faults against the in-process mock, then the
 * invariant checks; exits 1 when any invariant broke (a lease left out, a buffer leak, ...), 0
 * otherwise. Expected failures caused by the faults are reported, not held against the run.
 *
 * <p>One instance per invocation (picocli fills its fields); not thread-safe.
 */
@Command(name = "soak", mixinStandardHelpOptions = true,
        description = {"Mixed HTTP/1.1, HTTP/2, streaming and WebSocket load against the embedded mock with "
                + "faults injected at random; checks that no lease, waiter or buffer leaks.",
                "Exit code 1 when an invariant broke."})
public final class SoakCommand implements Callable<Integer> {
    /** How often the progress line is printed when stderr is not a terminal. */
    private static final long PLAIN_PROGRESS_EVERY_NANOS = 5_000_000_000L;

    static {
        // Before anything allocates a Netty buffer: the ByteBuf leak detector is created once, at class load.
        LeakCounter.install();
    }

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--duration", defaultValue = "60s", converter = DurationConverter.Positive.class,
            description = "How long the load runs: 500ms, 10s, 2m... (default: ${DEFAULT-VALUE}).")
    Duration duration;

    @Option(names = "--faults", defaultValue = "all", description = "all, none, or a comma list of: kill, goaway, "
            + "goaway-abrupt, restart, close-after-bytes, reset, stream-reset, refuse-stream, 429, 503, blackhole, "
            + "malformed (default: ${DEFAULT-VALUE}).")
    String faults;

    @Option(names = "--concurrency", defaultValue = "16", description = "Workers issuing requests back to back (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--json", description = "Print one JSON object at the end; no progress line.")
    boolean json;

    @Override
    public Integer call() throws InterruptedException {
        SoakOptions options;
        try {
            options = new SoakOptions(duration, Fault.parseList(faults), concurrency);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        StatusLine status = new StatusLine(System.err, Terminal.detect(), PLAIN_PROGRESS_EVERY_NANOS);
        SoakReport report = new SoakRunner(options).run(json ? line -> { } : line -> status.update(line,
                System.nanoTime()));
        if (json) {
            System.out.println(report.toJson());
        } else {
            status.end(null);
            System.out.print(report.toText());
        }
        return report.invariantOk() ? ExitCode.OK : ExitCode.NOT_MET;
    }
}

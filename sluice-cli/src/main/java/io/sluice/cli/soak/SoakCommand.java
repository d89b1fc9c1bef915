package io.sluice.cli.soak;

import java.time.Duration;
import java.util.Set;
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
    static {
        // Before anything allocates a Netty buffer: the ByteBuf leak detector is created once, at class load.
        LeakCounter.install();
    }

    @Option(names = "--duration", defaultValue = "60s", description = "How long the load runs (default: ${DEFAULT-VALUE}).")
    String duration;

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
        Duration d = SoakRunner.parseDuration(duration);
        Set<Fault> f = Fault.parseList(faults);
        SoakReport report = new SoakRunner(new SoakOptions(d, f, concurrency)).run(json ? line -> { } : line -> {
            System.err.print("\r" + line);
            System.err.flush();
        });
        if (json) {
            System.out.println(report.toJson());
        } else {
            System.err.println();
            System.out.print(report.toText());
        }
        return report.invariantOk() ? 0 : 1;
    }
}

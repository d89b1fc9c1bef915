package io.sluice.cli;

import io.sluice.cli.bench.BenchOptions;
import io.sluice.cli.bench.BenchReport;
import io.sluice.cli.bench.BenchRunner;
import io.sluice.cli.bench.HtmlReport;
import io.sluice.cli.bench.JsonReport;
import io.sluice.cli.bench.RateLimitPhase;
import io.sluice.cli.bench.TextReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice bench}: measures every success criterion of the seed (memory, reuse, acquisition
 * latency, HTTP/2 multiplexing, TLS handshakes, adaptive scaling, health checks, 10K concurrent
 * streams) against the embedded mock provider or {@code --url}, prints the table (or JSON) and exits
 * 0 only when every criterion passes. One instance per run.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Load-run the pool against the embedded mock provider (or --url) and report every success criterion.")
final class BenchCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--url", description = "Run against this server (a Sluice mock elsewhere, or compatible) instead of the embedded mock.")
    URI url;

    @Option(names = "--cacert", description = "Trust this PEM certificate for --url.")
    Path cacert;

    @Option(names = "--insecure", description = "Trust any certificate for --url (tests only).")
    boolean insecure;

    @Option(names = "--requests", description = "Requests in the steady-load phase (default: " + BenchOptions.FULL_REQUESTS
            + ", quick: " + BenchOptions.QUICK_REQUESTS + ").")
    Integer requests;

    @Option(names = "--concurrency", description = "Requests in flight in the steady-load phase (default: " + BenchOptions.CONCURRENCY + ").")
    Integer concurrency;

    @Option(names = "--streams", description = "Concurrent streaming requests in the 10K phase (default: " + BenchOptions.STREAMS + ").")
    Integer streams;

    @Option(names = "--json", description = "Print one JSON object instead of the table; no progress line.")
    boolean json;

    @Option(names = "--quick", description = "Short run, about 30 s on two idle cores (the full run: about 90 s): "
            + BenchOptions.QUICK_SUMMARY + ".")
    boolean quick;

    @Option(names = "--html", paramLabel = "FILE", description = "Also write a self-contained HTML report with charts.")
    Path html;

    @Option(names = "--100k", description = "Also run 100 000 concurrent streams over at most 1 000 connections, the mock"
            + " in a JVM of its own (about 2 GB of client heap; a few minutes on two cores). Not in the default run.")
    boolean hundredK;

    @Option(names = "--rate-limits", description = "Also run the shared-rate-limit phase: "
            + RateLimitPhase.CHILDREN + " client processes share one API key against a mock limited to "
            + RateLimitPhase.LIMIT + " requests per " + RateLimitPhase.WINDOW_SECONDS + " s, for "
            + RateLimitPhase.WINDOWS + " windows each: without shaping, with local shaping, with the fleet budget on an"
            + " embedded Redis (about 2 minutes). Not in the default run; not with --url.")
    boolean rateLimits;

    /** The options these flags describe; a bad value or file is a {@link picocli.CommandLine.ParameterException}. */
    BenchOptions options() {
        picocli.CommandLine cl = spec.commandLine();
        if (url != null) {
            InputFiles.httpUrl(cl, "--url", url);
        }
        if (cacert != null) {
            InputFiles.pemCertificates(cl, "--cacert", cacert);
        }
        if (html != null) {
            InputFiles.writable(cl, "--html", html);
        }
        if (rateLimits && url != null) {
            throw new IllegalArgumentException("--rate-limits runs its own limited mock and cannot be combined with --url");
        }
        BenchOptions o = quick ? BenchOptions.quickDefaults() : BenchOptions.defaults();
        if (url != null) {
            o = o.withUrl(url, cacert, insecure);
        }
        if (requests != null || concurrency != null) {
            int n = requests != null ? requests : o.requests();
            int c = concurrency != null ? concurrency : o.concurrency();
            if (n < 1 || c < 1) {
                throw new IllegalArgumentException("--requests and --concurrency must be at least 1");
            }
            o = o.withLoad(n, c);
        }
        if (streams != null) {
            if (streams < 1) {
                throw new IllegalArgumentException("--streams must be at least 1");
            }
            o = o.withStreams(streams, o.streamConnections(), o.streamTokens(), o.streamTokenDelayMs());
        }
        return o.withProgress(!json).withHundredK(hundredK).withRateLimits(rateLimits);
    }

    @Override
    public Integer call() throws IOException {
        BenchOptions o;
        try {
            o = options();
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        BenchReport report;
        Terminal terminal = Terminal.detect();
        try {
            report = new BenchRunner(o, System.err, terminal).run();
        } catch (io.sluice.cli.bench.BenchTarget.TargetUnreachableException e) {
            throw CliFailure.runtime(e.getMessage(), e);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(JsonReport.write(report));
            out.flush();
        } else {
            TextReport.write(report, out, terminal);
        }
        if (html != null) {
            try {
                Files.writeString(html, HtmlReport.render(report), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw CliFailure.runtime("cannot write the HTML report " + html + ": " + e.getMessage(), e);
            }
            if (!json) {
                out.println("HTML report: " + html.toAbsolutePath());
                out.flush();
            }
        }
        return report.allPass() ? ExitCode.OK : ExitCode.NOT_MET;
    }
}

package io.sluice.cli;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice compare}: the side-by-side run against the JVM clients people would
 * otherwise use. The peers live in the {@code sluice-bench} module (they are not shipped with
 * the library), so this command runs {@code io.sluice.bench.compare.CompareMain} from
 * {@code sluice-bench/target/benchmarks.jar}, building that jar with the Maven wrapper first
 * when it is missing.
 *
 * <p>The options mirror {@code CompareMain.parse}. Only the options given are passed on
 * ({@link #compareMainArgs()}), so the defaults stay CompareMain's; the defaults quoted in the
 * help text are CompareMain's at the time of writing. Values CompareMain validates itself
 * (mode, client names, counts) are checked there, which exits 2 with one {@code compare: ...}
 * line. A bad command line here is one {@code sluice compare: ...} line and exit code 2 too.
 *
 * <p>One instance per run; not thread-safe.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "Side-by-side run: Sluice vs the JDK HttpClient, OkHttp, Apache HttpClient 5, Reactor Netty, Jetty, "
                + "against the mock provider or (--url) any HTTPS server.")
final class CompareCommand implements Callable<Integer> {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--json", description = "Print the results as JSON instead of a table.")
    boolean json;

    @Option(names = "--requests", paramLabel = "N", description = "Requests per client (default: 200000).")
    Long requests;

    @Option(names = "--concurrency", paramLabel = "C", description = "Requests in flight per client (default: 256).")
    Integer concurrency;

    @Option(names = "--clients", paramLabel = "a,b,...",
            description = "Clients to run: sluice, jdk, okhttp, apache, reactor-netty, jetty, h2load "
                    + "(default: all; h2load when on the PATH and the mode is throughput).")
    String clients;

    @Option(names = "--mode", paramLabel = "throughput|memory", description = "What to measure (default: throughput).")
    String mode;

    @Option(names = "--warmup", paramLabel = "N", description = "Warm-up requests per client (default: requests / 10).")
    Long warmup;

    @Option(names = "--mock-warmup", paramLabel = "N",
            description = "Requests that warm each fresh mock (default: 2 x requests, between 2000 and 400000).")
    Long mockWarmup;

    @Option(names = "--repeat", paramLabel = "N",
            description = "Interleaved rounds (every client once per round, each against a fresh mock); reports the medians (default: 1).")
    Integer repeat;

    @Option(names = "--memory-steps", paramLabel = "n1,n2,...",
            description = "Connection counts of the memory mode, at least two (default: 100,1000,5000).")
    String memorySteps;

    @Option(names = "--no-h2load", description = "Neither warm the mock with h2load nor list it among the clients.")
    boolean noH2load;

    @Option(names = "--url", paramLabel = "URL",
            description = "Run against this HTTPS server instead of the mock (https://host[:port][/path]; "
                    + "default path /v1/chat/completions). Every client POSTs the same small JSON body; throughput mode only.")
    String url;

    @Option(names = "--cacert", paramLabel = "PEM",
            description = "Trust the certificates in this PEM file as well as the JDK's CAs (with --url).")
    String cacert;

    /** CompareMain's command line for the options given, in CompareMain's spelling. */
    List<String> compareMainArgs() {
        List<String> a = new ArrayList<>();
        if (json) {
            a.add("--json");
        }
        add(a, "--requests", requests);
        add(a, "--concurrency", concurrency);
        add(a, "--clients", clients);
        add(a, "--mode", mode);
        add(a, "--warmup", warmup);
        add(a, "--mock-warmup", mockWarmup);
        add(a, "--repeat", repeat);
        add(a, "--memory-steps", memorySteps);
        if (noH2load) {
            a.add("--no-h2load");
        }
        add(a, "--url", url);
        add(a, "--cacert", cacert);
        return a;
    }

    private static void add(List<String> args, String name, Object value) {
        if (value != null) {
            args.add(name);
            args.add(value.toString());
        }
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        Path root = repositoryRoot();
        if (root == null) {
            throw CliFailure.runtime("run it from a checkout of Sluice (./sluice compare): "
                    + "the peer clients are in the sluice-bench module", null);
        }
        Path jar = root.resolve("sluice-bench/target/benchmarks.jar");
        if (!Files.isRegularFile(jar)) {
            System.err.println("building sluice-bench …");
            Process build = new ProcessBuilder(root.resolve("mvnw").toString(), "-B", "-ntp", "-q", "-DskipTests",
                    "-pl", "sluice-bench", "-am", "package").directory(root.toFile()).inheritIO().start();
            if (build.waitFor() != 0 || !Files.isRegularFile(jar)) {
                throw CliFailure.runtime("building sluice-bench failed", null);
            }
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(jar.toString());
        cmd.add("io.sluice.bench.compare.CompareMain");
        cmd.addAll(compareMainArgs());
        return new ProcessBuilder(cmd).inheritIO().start().waitFor();
    }

    /** The checkout this CLI jar was built in ({@code <root>/sluice-cli/target/sluice-cli.jar}), or null. */
    static Path repositoryRoot() {
        try {
            Path self = Path.of(CompareCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path p = self.getParent(); p != null; p = p.getParent()) {
                if (Files.isRegularFile(p.resolve("mvnw")) && Files.isDirectory(p.resolve("sluice-bench"))) {
                    return p;
                }
            }
        } catch (URISyntaxException | SecurityException e) {
            return null;
        }
        String cwd = System.getProperty("user.dir");
        Path here = cwd == null ? null : new File(cwd).toPath();
        return here != null && Files.isDirectory(here.resolve("sluice-bench")) ? here : null;
    }
}

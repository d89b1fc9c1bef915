package io.sluice.cli;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * {@code sluice compare}: the side-by-side run against the JVM clients people would
 * otherwise use. The peers live in the {@code sluice-bench} module (they are not shipped with
 * the library), so this command runs {@code io.sluice.bench.compare.CompareMain} from
 * {@code sluice-bench/target/benchmarks.jar}, building that jar with the Maven wrapper first
 * when it is missing. Every argument is passed through: {@code [--json] [--requests N]
 * [--concurrency C] [--clients a,b,...] [--mode throughput|memory]}.
 *
 * <p>One instance per run; not thread-safe.
 */
@Command(name = "compare", mixinStandardHelpOptions = false,
        description = "Side-by-side run: Sluice vs the JDK HttpClient, OkHttp, Apache HttpClient 5, Reactor Netty, Jetty.")
final class CompareCommand implements Callable<Integer> {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Unmatched
    List<String> args = new ArrayList<>();

    @Parameters(hidden = true, arity = "0..*")
    List<String> positional = new ArrayList<>();

    @Override
    public Integer call() throws IOException, InterruptedException {
        Path root = repositoryRoot();
        if (root == null) {
            spec.commandLine().getErr().println("compare: run it from a checkout of Sluice (./sluice compare): "
                    + "the peer clients are in the sluice-bench module");
            return 2;
        }
        Path jar = root.resolve("sluice-bench/target/benchmarks.jar");
        if (!Files.isRegularFile(jar)) {
            System.err.println("building sluice-bench …");
            Process build = new ProcessBuilder(root.resolve("mvnw").toString(), "-B", "-ntp", "-q", "-DskipTests",
                    "-pl", "sluice-bench", "-am", "package").directory(root.toFile()).inheritIO().start();
            if (build.waitFor() != 0 || !Files.isRegularFile(jar)) {
                spec.commandLine().getErr().println("compare: building sluice-bench failed");
                return 1;
            }
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(jar.toString());
        cmd.add("io.sluice.bench.compare.CompareMain");
        cmd.addAll(positional);
        cmd.addAll(args);
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

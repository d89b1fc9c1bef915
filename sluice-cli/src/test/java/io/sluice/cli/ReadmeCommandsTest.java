package io.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every {@code ./sluice} command line in the README's shell blocks, read from README.md and run as
 * written, except where a test cannot: fixed ports become free ones (0), the soak's 60 s becomes
 * 2 s, and the full bench is parsed and validated but not run (its engine runs, small, in
 * {@code BenchRunnerTest}; a full run takes two minutes). A README command line this test does not
 * know fails it, so a new one cannot go in untested.
 */
class ReadmeCommandsTest {
    static List<String> readme;
    static List<List<String>> commands;

    @BeforeAll
    static void readReadme() throws Exception {
        Path root = CompareCommand.repositoryRoot();
        assertThat(root).isNotNull();
        readme = Files.readAllLines(root.resolve("README.md"));
        commands = shellCommands(readme);
        assertThat(commands).as("README command lines").hasSizeGreaterThanOrEqualTo(5);
    }

    /** The {@code ./sluice} lines of the README's {@code sh} blocks, as words without {@code ./sluice} and the comment. */
    static List<List<String>> shellCommands(List<String> lines) {
        List<List<String>> out = new ArrayList<>();
        boolean inShell = false;
        for (String line : lines) {
            if (line.startsWith("```")) {
                inShell = !inShell && (line.equals("```sh") || line.equals("```bash") || line.equals("```shell"));
                continue;
            }
            if (inShell && line.startsWith("./sluice")) {
                out.add(words(line));
            }
        }
        return out;
    }

    private static List<String> words(String line) {
        int hash = line.indexOf(" #");
        String command = (hash < 0 ? line : line.substring(0, hash)).trim();
        List<String> words = new ArrayList<>(Arrays.asList(command.split("\\s+")));
        assertThat(words.remove(0)).isEqualTo("./sluice");
        return words;
    }

    @Test
    void everyReadmeCommandLineParsesAndEveryOneIsCovered() {
        for (List<String> c : commands) {
            String sub = c.isEmpty() ? "" : c.get(0);
            assertThat(List.of("--help", "bench", "mock", "probe", "soak"))
                    .as("README command ./sluice %s is run by this test", String.join(" ", c)).contains(sub);
            CommandLine cl = SluiceCli.commandLine();
            CommandLine.ParseResult parsed = cl.parseArgs(c.toArray(String[]::new));
            if (sub.equals("bench")) {
                BenchCommand bench = (BenchCommand) parsed.subcommand().commandSpec().userObject();
                assertThat(bench.options()).as("./sluice %s validates", String.join(" ", c)).isNotNull();
            }
        }
    }

    @Test
    void helpAsWritten() {
        for (List<String> c : commands) {
            if (c.equals(List.of("--help"))) {
                CliRun run = CliRun.of(c.toArray(String[]::new));
                assertThat(run.exitCode()).isZero();
                assertThat(run.out()).contains("bench").contains("probe").contains("Exit codes:");
            }
        }
    }

    @Test
    void everyMockLineStartsAndStops() throws Exception {
        for (List<String> c : commands) {
            if (!c.get(0).equals("mock")) {
                continue;
            }
            List<String> args = freePorts(c);
            int certAt = args.indexOf("--cert-out");
            Path cert = certAt < 0 ? null : Path.of(args.get(certAt + 1));
            boolean certExisted = cert != null && Files.exists(cert);
            RunningMock mock = RunningMock.start(args);
            try {
                assertThat(mock.out()).as("./sluice %s", String.join(" ", c)).contains("listening ");
            } finally {
                mock.stop();
                if (cert != null && !certExisted) {
                    Files.deleteIfExists(cert); // the README's relative mock.pem, written into the working directory
                }
            }
        }
    }

    @Test
    void mockThenProbeAsTheReadmeSaysSucceeds() throws Exception {
        List<String> mockArgs = freePorts(only("mock", "--tls-port"));
        List<String> probeArgs = new ArrayList<>(only("probe"));
        int cacertAt = probeArgs.indexOf("--cacert");
        assertThat(cacertAt).as("--cacert in " + probeArgs).isNotNegative();
        Path cert = Path.of(probeArgs.get(cacertAt + 1));
        assertThat(cert).as("the README's relative certificate path").isRelative();
        boolean certExisted = Files.exists(cert);
        RunningMock mock = RunningMock.start(mockArgs);
        try {
            String listening = mock.out().lines().findFirst().orElse("");
            URI https = URI.create(listening.split(" ")[1].substring("https=".length()));
            // The probe as written, pointed at the port the mock got instead of 8443.
            URI readmeUrl = URI.create(probeArgs.get(1));
            assertThat(readmeUrl.getPort()).isEqualTo(8443);
            probeArgs.set(1, new URI(readmeUrl.getScheme(), null, readmeUrl.getHost(), https.getPort(),
                    readmeUrl.getPath(), null, null).toString());
            CliRun probe = CliRun.of(probeArgs.toArray(String[]::new));
            assertThat(probe.exitCode()).as("probe " + probeArgs + " stderr: " + probe.err()).isZero();
            assertThat(probe.err()).isEmpty();
            assertThat(probe.out()).containsPattern("(?m)^protocol +h2$").containsPattern("(?m)^status +200$");
        } finally {
            mock.stop();
            if (!certExisted) {
                Files.deleteIfExists(cert);
            }
        }
    }

    /** The soak line, for 2 s instead of its duration, in a JVM of its own (buffer-leak counting needs one). */
    @Test
    void soakAsWrittenButShort() throws Exception {
        List<String> args = new ArrayList<>(only("soak"));
        int d = args.indexOf("--duration");
        assertThat(d).isNotNegative();
        args.set(d + 1, "2s");
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", cp, "io.sluice.cli.SluiceCli"));
        cmd.addAll(args);
        File out = Files.createTempFile("readme-soak", ".out").toFile();
        File err = Files.createTempFile("readme-soak", ".err").toFile();
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out).redirectError(err).start();
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("soak finished").isTrue();
            String stdout = Files.readString(out.toPath(), StandardCharsets.UTF_8);
            String stderr = Files.readString(err.toPath(), StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as("stdout: %s%nstderr: %s", stdout, stderr).isZero();
            assertThat(stderr).as("stderr is not a terminal: plain lines").doesNotContain("\r");
            assertThat(stdout).contains("invariant");
        } finally {
            out.delete();
            err.delete();
        }
    }

    /** The one README command line starting with these words. */
    private static List<String> only(String... prefix) {
        List<List<String>> found = commands.stream()
                .filter(c -> c.size() >= prefix.length && c.subList(0, prefix.length).equals(List.of(prefix))).toList();
        assertThat(found).as("README lines starting ./sluice %s", String.join(" ", prefix)).hasSize(1);
        return found.get(0);
    }

    /** {@code args} with free ports: given port values become 0, and a mock without ports gets both. */
    private static List<String> freePorts(List<String> c) {
        List<String> args = new ArrayList<>(c);
        for (String flag : List.of("--tls-port", "--plain-port")) {
            int i = args.indexOf(flag);
            if (i >= 0) {
                args.set(i + 1, "0");
            } else {
                args.add(flag);
                args.add("0");
            }
        }
        return args;
    }

    /** A mock command run in-process on its own thread, stopped by interrupting it. */
    private record RunningMock(Thread thread, StringWriter stdout, StringWriter stderr) {
        static RunningMock start(List<String> args) throws InterruptedException {
            CommandLine cl = SluiceCli.commandLine();
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            cl.setOut(new PrintWriter(out, true));
            cl.setErr(new PrintWriter(err, true));
            Thread t = new Thread(() -> cl.execute(args.toArray(String[]::new)), "readme-mock");
            t.setDaemon(true);
            t.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!out.toString().contains("Press Ctrl-C") && System.nanoTime() < deadline && t.isAlive()) {
                Thread.sleep(20);
            }
            assertThat(out.toString()).as("mock %s started; stderr: %s", args, err).contains("Press Ctrl-C");
            return new RunningMock(t, out, err);
        }

        String out() {
            return stdout.toString();
        }

        void stop() throws InterruptedException {
            thread.interrupt(); // MockCommand closes its servers when its wait is interrupted
            thread.join(TimeUnit.SECONDS.toMillis(10));
            assertThat(thread.isAlive()).isFalse();
        }
    }
}

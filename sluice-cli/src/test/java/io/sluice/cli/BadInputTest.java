package io.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Bad input as a careful user types it: each is one line on stderr naming the command, the
 * documented exit code (2 usage, 3 runtime), no stack trace, and nothing started. The cases are
 * the ones that printed stack traces or ran for minutes before.
 */
class BadInputTest {
    @TempDir
    Path dir;

    private static void assertOneLine(CliRun run, int exitCode, String command, String... mentions) {
        assertThat(run.exitCode()).as(run.err()).isEqualTo(exitCode);
        assertThat(run.errLines()).as("one line on stderr: %s", run.err()).hasSize(1);
        String line = run.errLines().get(0);
        assertThat(line).startsWith("sluice " + command + ": ").doesNotContain("\tat ").doesNotContain("Exception in");
        for (String m : mentions) {
            assertThat(line).contains(m);
        }
    }

    @ParameterizedTest(name = "soak {0}")
    @CsvSource(delimiter = '|', value = {
        "--duration abc   | 'abc' is not a duration",
        "--duration -5s   | '-5s' is negative",
        "--duration 0s    | '0s' must be more than zero",
        "--duration 60    | '60' is not a duration",
        "--concurrency -1 | --concurrency must be at least 1",
        "--faults bogus   | unknown fault 'bogus'",
    })
    void soakRefusesBadValues(String args, String message) {
        assertOneLine(CliRun.of(("soak " + args.trim()).split(" ")), ExitCode.USAGE, "soak", message.trim());
    }

    @Test
    void mockOnAPortInUseSaysWhichPortAndExits3() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String port = Integer.toString(taken.getLocalPort());
            CliRun run = CliRun.of("mock", "--tls-port", port, "--plain-port", "0");
            assertOneLine(run, ExitCode.RUNTIME, "mock", "cannot listen on", ":" + port, "--tls-port");
        }
    }

    @Test
    void mockOnANonLoopbackHostNamesTheFlag() {
        CliRun run = CliRun.of("mock", "--host", "0.0.0.0", "--tls-port", "0", "--plain-port", "0");
        assertOneLine(run, ExitCode.USAGE, "mock", "--allow-non-loopback");
        assertThat(run.err()).doesNotContain("allowNonLoopback");
    }

    @ParameterizedTest(name = "mock {0}")
    @CsvSource(delimiter = '|', value = {
        "--status 200       | --status must be 400..599",
        "--status 302       | --status must be 400..599",
        "--delay soon       | 'soon' is not a duration",
        "--idle-timeout -1s | '-1s' is negative",
        "--regions eu:fast  | bad delay 'fast' for eu",
        "--rate-limit-requests 0    | --rate-limit-requests must be at least 1",
        "--rate-limit-tokens -5     | --rate-limit-tokens must be at least 1",
        "--rate-limit-requests many | --rate-limit-requests",
        "--rate-limit-window 0s     | '0s' must be more than zero",
        "--rate-limit-window 60     | '60' is not a duration",
        "--rate-limit-window 25h    | --rate-limit-window must be at most 24h",
        "--rate-limit-window 24h --rate-limit-tokens 99999999999999 | --rate-limit-tokens must be at most 53375995582",
        "--rate-limit-draft-headers | --rate-limit-draft-headers needs an enforced limit",
    })
    void mockRefusesBadValues(String args, String message) {
        String[] a = ("mock --tls-port 0 --plain-port 0 " + args.trim()).split(" ");
        assertOneLine(CliRun.of(a), ExitCode.USAGE, "mock", message.trim());
    }

    @Test
    void mockCertOutInAMissingDirectoryIsRefusedBeforeStarting() {
        CliRun run = CliRun.of("mock", "--tls-port", "0", "--plain-port", "0", "--cert-out",
                dir.resolve("missing/mock.pem").toString());
        assertOneLine(run, ExitCode.USAGE, "mock", "--cert-out", "no such directory");
    }

    @Test
    void benchHtmlInAMissingDirectoryIsRefusedBeforeTheRun() {
        CliRun run = CliRun.of("bench", "--quick", "--html", dir.resolve("nonexistent-dir/x.html").toString());
        assertOneLine(run, ExitCode.USAGE, "bench", "--html", "no such directory");
        assertThat(run.out()).as("no phase ran").isEmpty();
    }

    @Test
    void benchUrlThatIsNotAUrlIsAUsageError() {
        CliRun run = CliRun.of("bench", "--url", "not-a-url");
        assertOneLine(run, ExitCode.USAGE, "bench", "--url", "not-a-url");
    }

    @Test
    void benchRateLimitsWithAUrlIsAUsageError() {
        CliRun run = CliRun.of("bench", "--rate-limits", "--url", "https://127.0.0.1:1");
        assertOneLine(run, ExitCode.USAGE, "bench", "--rate-limits", "--url");
        assertThat(run.out()).as("no phase ran").isEmpty();
    }

    @Test
    void benchCacertThatIsNotPemIsAUsageError() throws IOException {
        Path notPem = Files.writeString(dir.resolve("notes.txt"), "hello");
        CliRun run = CliRun.of("bench", "--url", "https://127.0.0.1:1", "--cacert", notPem.toString());
        assertOneLine(run, ExitCode.USAGE, "bench", "no PEM certificate in");
        CliRun missing = CliRun.of("bench", "--url", "https://127.0.0.1:1", "--cacert", dir.resolve("none.pem").toString());
        assertOneLine(missing, ExitCode.USAGE, "bench", "no such file");
    }

    @Test
    void benchAgainstAClosedPortStopsAtOnceWithARuntimeError() throws IOException {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        CliRun run = CliRun.of("bench", "--quick", "--json", "--url", "https://127.0.0.1:" + closed);
        assertOneLine(run, ExitCode.RUNTIME, "bench", "https://127.0.0.1:" + closed, "did not answer");
        assertThat(run.out()).as("no phase ran, no report").isEmpty();
    }

    @Test
    void helpListsTheExitCodes() {
        for (String command : new String[] {"bench", "mock", "probe", "soak", "compare"}) {
            CliRun run = CliRun.of(command, "--help");
            assertThat(run.exitCode()).isZero();
            assertThat(run.out()).as(command).contains("Exit codes:").contains("Usage error")
                    .contains("Runtime error");
        }
        assertThat(CliRun.of("--help").out()).contains("Exit codes:");
    }

    @Test
    void anUnknownOptionIsOneLineForEveryCommand() {
        for (String command : new String[] {"bench", "mock", "probe", "soak", "compare"}) {
            CliRun run = command.equals("probe") ? CliRun.of(command, "http://127.0.0.1:1/", "--bogus")
                    : CliRun.of(command, "--bogus");
            assertOneLine(run, ExitCode.USAGE, command, "--bogus", "--help");
        }
    }
}

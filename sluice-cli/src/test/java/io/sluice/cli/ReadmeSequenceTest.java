package io.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The README's CLI sequence, as written there: {@code ./sluice mock ...} and then
 * {@code ./sluice probe https://localhost:8443/ping --cacert mock.pem}, both read from README.md
 * and run in-process in this JVM's working directory. Only the ports change: the mock gets free
 * ports (0) and the probe URL the TLS port the mock printed, so the test does not depend on 8443
 * being free. The relative {@code mock.pem} is resolved as a shell would, against the working
 * directory, and removed afterwards.
 */
class ReadmeSequenceTest {

    /** The README's command line that starts with {@code prefix}, without {@code ./sluice} and the comment. */
    private static List<String> readmeCommand(List<String> readme, String prefix) {
        String line = readme.stream().filter(l -> l.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("README.md has no line starting with " + prefix));
        int hash = line.indexOf(" #");
        String command = (hash < 0 ? line : line.substring(0, hash)).trim();
        List<String> words = new ArrayList<>(Arrays.asList(command.split("\\s+")));
        assertThat(words.remove(0)).isEqualTo("./sluice");
        return words;
    }

    @Test
    void mockThenProbeAsTheReadmeSaysSucceeds() throws Exception {
        Path root = CompareCommand.repositoryRoot();
        assertThat(root).isNotNull();
        List<String> readme = Files.readAllLines(root.resolve("README.md"));
        List<String> mockArgs = readmeCommand(readme, "./sluice mock --tls-port");
        List<String> probeArgs = readmeCommand(readme, "./sluice probe ");

        // Free ports instead of 8443/8080; every other flag as written.
        for (String portFlag : List.of("--tls-port", "--plain-port")) {
            int i = mockArgs.indexOf(portFlag);
            assertThat(i).as(portFlag + " in " + mockArgs).isNotNegative();
            mockArgs.set(i + 1, "0");
        }
        int cacertAt = probeArgs.indexOf("--cacert");
        assertThat(cacertAt).as("--cacert in " + probeArgs).isNotNegative();
        Path cert = Path.of(probeArgs.get(cacertAt + 1));
        assertThat(cert).as("the README's relative certificate path").isRelative();
        boolean certExisted = Files.exists(cert);

        CommandLine mockCl = SluiceCli.commandLine();
        StringWriter mockOut = new StringWriter();
        StringWriter mockErr = new StringWriter();
        mockCl.setOut(new PrintWriter(mockOut, true));
        mockCl.setErr(new PrintWriter(mockErr, true));
        Thread mock = new Thread(() -> mockCl.execute(mockArgs.toArray(String[]::new)), "readme-mock");
        mock.setDaemon(true);
        mock.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!mockOut.toString().contains("Press Ctrl-C") && System.nanoTime() < deadline && mock.isAlive()) {
                Thread.sleep(20);
            }
            String listening = mockOut.toString().lines().findFirst().orElse("");
            assertThat(listening).as("mock stdout; stderr: " + mockErr).startsWith("listening https=");
            URI https = URI.create(listening.split(" ")[1].substring("https=".length()));

            // The probe as written, pointed at the port the mock got instead of 8443.
            URI readmeUrl = URI.create(probeArgs.get(1));
            assertThat(readmeUrl.getPort()).isEqualTo(8443);
            probeArgs.set(1, new URI(readmeUrl.getScheme(), null, readmeUrl.getHost(), https.getPort(),
                    readmeUrl.getPath(), null, null).toString());

            CommandLine probeCl = SluiceCli.commandLine();
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            probeCl.setOut(new PrintWriter(out));
            probeCl.setErr(new PrintWriter(err));
            int code = probeCl.execute(probeArgs.toArray(String[]::new));
            assertThat(code).as("probe " + probeArgs + " stderr: " + err).isZero();
            assertThat(err.toString()).isEmpty();
            assertThat(out.toString()).containsPattern("(?m)^protocol +h2$").containsPattern("(?m)^status +200$");
        } finally {
            mock.interrupt(); // MockCommand closes the server when its wait is interrupted
            mock.join(TimeUnit.SECONDS.toMillis(10));
            if (!certExisted) {
                Files.deleteIfExists(cert);
            }
        }
        assertThat(mock.isAlive()).isFalse();
    }
}

package io.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

class SluiceCliVersionTest {
    /** Set by the surefire configuration in sluice-cli/pom.xml from ${project.version}. */
    private static final String PROJECT_VERSION = System.getProperty("sluice.project.version");

    /** The root command and every subcommand, each with -V and --version. */
    static List<List<String>> commandLines() {
        List<List<String>> lines = new ArrayList<>();
        for (String flag : List.of("-V", "--version")) {
            lines.add(List.of(flag));
            for (String sub : SluiceCli.commandLine().getSubcommands().keySet()) {
                lines.add(List.of(sub, flag));
            }
        }
        return lines;
    }

    @ParameterizedTest(name = "sluice {0}")
    @MethodSource("commandLines")
    void printsTheProjectVersionAndExitsZero(List<String> args) {
        assertThat(PROJECT_VERSION).as("sluice.project.version system property").isNotBlank();
        CommandLine cl = SluiceCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        assertThat(cl.execute(args.toArray(String[]::new))).isZero();
        assertThat(out.toString().lines().toList()).singleElement().asString()
                .isEqualTo("sluice " + PROJECT_VERSION);
        assertThat(err.toString()).isEmpty();
    }

    @org.junit.jupiter.api.Test
    void everySubcommandIsCovered() {
        assertThat(SluiceCli.commandLine().getSubcommands().keySet())
                .containsExactlyInAnyOrder("bench", "compare", "mock", "probe", "soak");
    }
}

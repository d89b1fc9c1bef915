package io.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Output that suits where it goes: terminals get {@code \r} and colour, logs get plain lines. */
class OutputTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void colourOnlyOnATerminalAndNeverUnderNoColor() {
        assertThat(Terminal.detect(true, Map.of()).colour()).isTrue();
        assertThat(Terminal.detect(true, Map.of("NO_COLOR", "1")).colour()).isFalse();
        assertThat(Terminal.detect(true, Map.of("TERM", "dumb")).colour()).isFalse();
        assertThat(Terminal.detect(false, Map.of()).colour()).isFalse();
        assertThat(Terminal.detect(false, Map.of()).interactive()).isFalse();
        assertThat(Terminal.PLAIN.green("PASS")).isEqualTo("PASS");
        assertThat(Terminal.detect(true, Map.of()).red("FAIL")).isEqualTo("\u001b[31mFAIL\u001b[0m");
    }

    @Test
    void onATerminalTheLineIsRewrittenInPlace() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        StatusLine line = new StatusLine(new PrintStream(bytes, true, StandardCharsets.UTF_8),
                new Terminal(true, false), 5 * SECOND);
        line.update("step 1 of 3, longer", 0);
        line.update("step 2 of 3", 1);
        line.end("done");
        String s = bytes.toString(StandardCharsets.UTF_8);
        assertThat(s).isEqualTo("\rstep 1 of 3, longer" + "\rstep 2 of 3        " + "\rdone" + " ".repeat(7) + "\n");
    }

    @Test
    void elsewhereALineEveryIntervalAndTheFinalStateWithoutCarriageReturns() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        StatusLine line = new StatusLine(new PrintStream(bytes, true, StandardCharsets.UTF_8), Terminal.PLAIN,
                5 * SECOND);
        for (int i = 0; i <= 12; i++) {
            line.update("t=" + i, i * SECOND); // once a second, for 12 s
        }
        line.end("final");
        String s = bytes.toString(StandardCharsets.UTF_8);
        assertThat(s).doesNotContain("\r");
        assertThat(s.lines().toList()).containsExactly("t=0", "t=5", "t=10", "final");
    }

    @Test
    void benchQuickHelpStatesWhatTheQuickRunDoes() {
        // The review found "5 000 requests" in the help while the run made 3 000: the help's numbers
        // must be the quick run's own.
        String help = CliRun.of("bench", "--help").out().replaceAll("\\s+", " ");
        io.sluice.cli.bench.BenchOptions q = io.sluice.cli.bench.BenchOptions.quickDefaults();
        io.sluice.cli.bench.BenchOptions full = io.sluice.cli.bench.BenchOptions.defaults();
        assertThat(help).contains(q.requests() + " requests at steady load")
                .contains(q.tlsFullSamples() + " + " + q.tlsResumedSamples() + " handshakes")
                .contains(q.streams() + " streams of " + q.streamTokens() + " tokens")
                .contains(q.scalingBurst().toSeconds() + " s burst + " + q.scalingIdle().toSeconds() + " s idle")
                .contains(q.healthDuration().toSeconds() + " s of faults")
                .contains("(default: " + full.requests() + ", quick: " + q.requests() + ")")
                .contains("(default: " + full.streams() + ")")
                .doesNotContain("< 30 s");
        assertThat(q.nativeLow()).as("the help says the quick run has no native step").isZero();
    }
}

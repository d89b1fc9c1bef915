package io.sluice.cli.soak;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The soak engine end to end. It runs in a fresh JVM through the CLI's main class, because buffer
 * leak counting must be installed before Netty creates its leak detector, which other tests in this
 * JVM have already done.
 */
class SoakCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void allFaultsForFiveSecondsKeepEveryInvariant() throws Exception {
        Run run = soak("--duration", "5s", "--faults", "all", "--json");
        JsonNode r = run.json;
        for (String key : List.of("requests", "failures", "replays", "leaked_leases", "buffer_leaks", "invariant_ok",
                "peak_heap_bytes")) {
            assertThat(r.has(key)).as("key %s in %s", key, r).isTrue();
        }
        assertThat(r.path("invariant_ok").asBoolean()).as(run.stdout).isTrue();
        assertThat(r.path("leaked_leases").asLong()).as(run.stdout).isZero();
        assertThat(r.path("buffer_leaks").asLong()).as(run.stdout).isZero();
        assertThat(r.path("leak_detection_active").asBoolean()).isTrue();
        assertThat(r.path("hung_requests").asLong()).isZero();
        assertThat(r.path("requests").asLong()).isPositive();
        assertThat(r.path("failures").isObject()).isTrue();
        assertThat(r.path("faults_injected").size()).isPositive();
        assertThat(r.path("peak_heap_bytes").asLong()).isPositive();
        assertThat(run.exitCode).isZero();
    }

    @Test
    void cleanRunHasNoFailuresAtAll() throws Exception {
        Run run = soak("--duration", "2s", "--faults", "none", "--json");
        assertThat(run.json.path("invariant_ok").asBoolean()).as(run.stdout).isTrue();
        assertThat(run.json.path("requests").asLong()).isPositive();
        // Without faults, any failure would be the client's.
        assertThat(run.json.path("failures").size()).as(run.stdout).isZero();
        assertThat(run.json.path("faults_injected").size()).isZero();
        assertThat(run.exitCode).isZero();
    }

    @Test
    void faultListsParseAndUnknownNamesAreRejected() {
        assertThat(Fault.parseList("all")).isEqualTo(EnumSet.allOf(Fault.class));
        assertThat(Fault.parseList("none")).isEmpty();
        assertThat(Fault.parseList("kill, 429,restart")).containsExactlyInAnyOrder(Fault.KILL, Fault.STATUS_429,
                Fault.RESTART);
        assertThatThrownBy(() -> Fault.parseList("kill,meteor")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("meteor").hasMessageContaining("goaway-abrupt");
    }

    private record Run(int exitCode, String stdout, JsonNode json) {
    }

    private static Run soak(String... args) throws Exception {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new java.util.ArrayList<>(List.of(java, "-cp", cp, "io.sluice.cli.SluiceCli", "soak"));
        cmd.addAll(List.of(args));
        File out = Files.createTempFile("soak", ".json").toFile();
        File err = Files.createTempFile("soak", ".err").toFile();
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out).redirectError(err).start();
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("soak finished").isTrue();
            String stdout = Files.readString(out.toPath(), StandardCharsets.UTF_8);
            assertThat(stdout).as("stderr: %s", Files.readString(err.toPath())).isNotBlank();
            return new Run(p.exitValue(), stdout, JSON.readTree(stdout));
        } finally {
            out.delete();
            err.delete();
        }
    }
}

package io.sluice.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Runs the compare engine end to end with tiny numbers: the mock in its own JVM, then sluice and
 * the JDK client in theirs, and checks the JSON. The long runs are only via the command.
 *
 * <p>{@code --no-h2load}: the run takes the path of a machine without h2load (the mock warmed from
 * this JVM) wherever it runs, so a test that passes here passes on a fresh machine too.
 */
class CompareMainTest {

    @Test
    @Timeout(120)
    void tinyRunProducesWellFormedJson() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            rc = CompareMain.run(new String[] {"--json", "--requests", "300", "--concurrency", "16",
                    "--clients", "sluice,jdk", "--warmup", "50", "--mock-warmup", "50",
                    "--no-h2load"}, o, e);
        }
        String stderr = err.toString(StandardCharsets.UTF_8);
        assertThat(rc).as(stderr).isZero();
        JsonNode doc = new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
        JsonNode results = doc.get("results");
        assertThat(results).as(stderr).hasSize(2);
        assertThat(results.get(0).get("client").asText()).isEqualTo("sluice");
        assertThat(results.get(1).get("client").asText()).isEqualTo("jdk");
        for (JsonNode r : results) {
            assertThat(r.fieldNames()).toIterable().startsWith("client", "rps", "p50_ms", "p99_ms",
                    "cpu_us_per_request", "connections", "heap_bytes", "errors");
            assertThat(r.get("rps").asDouble()).isPositive();
            assertThat(r.get("p50_ms").asDouble()).isPositive();
            assertThat(r.get("p99_ms").asDouble()).isGreaterThanOrEqualTo(r.get("p50_ms").asDouble());
            assertThat(r.get("cpu_us_per_request").asDouble()).isPositive();
            assertThat(r.get("connections").asLong()).isPositive();
            assertThat(r.get("heap_bytes").asLong()).isPositive();
            assertThat(r.get("errors").asLong()).as(r.toString()).isZero();
            assertThat(r.get("protocol").asText()).isEqualTo("h2");
        }
        assertThat(doc.get("machine").get("nproc").asInt()).isPositive();
    }

    @Test
    void tableFormatsResultsAndTargets() throws Exception {
        ObjectMapper m = new ObjectMapper();
        JsonNode doc = m.readTree("""
                {"mode":"throughput","requests":10,"concurrency":2,"results":[
                 {"client":"sluice","rps":120.0,"p50_ms":1.0,"p99_ms":2.0,"cpu_us_per_request":10.0,"connections":1,
                  "heap_bytes":1048576,"errors":0,"protocol":"h2","concurrency":2},
                 {"client":"okhttp","rps":100.0,"p50_ms":1.5,"p99_ms":3.0,"cpu_us_per_request":12.0,"connections":1,
                  "heap_bytes":2097152,"errors":0,"protocol":"h2","concurrency":2}],
                 "machine":{"nproc":2,"cpu":"x","java":"y","loadavg":"z"}}""");
        String t = Report.throughputTable(doc);
        assertThat(t).contains("sluice / best peer (okhttp) requests/s: 1.20x (target >= 1.20x: met)")
                .contains("vs best peer p99 (okhttp) 3.00 ms (target: no worse: met)");
    }

    @Test
    void rejectsUnknownClientsAndModes() {
        assertThatThrownBy(() -> CompareMain.parse(new String[] {"--clients", "curl"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("curl");
        assertThatThrownBy(() -> CompareMain.parse(new String[] {"--mode", "latency"}))
                .isInstanceOf(IllegalArgumentException.class);
        CompareMain.Options o = CompareMain.parse(new String[] {"--clients", "sluice,jdk", "--requests", "7"});
        assertThat(o.clients).isEqualTo(List.of("sluice", "jdk"));
        assertThat(o.requests).isEqualTo(7);
        assertThat(o.concurrency).isEqualTo(256);
    }

    @Test
    void parsesH2loadOutput() {
        assertThat(CompareMain.H2load.parseSeconds("finished in 3.02s, 66225.41 req/s, 10MB/s\n")).isEqualTo(3.02);
        assertThat(CompareMain.H2load.parseSeconds("finished in 812.5ms, 100 req/s\n")).isEqualTo(0.8125);
        assertThat(CompareMain.H2load.parseChildCpu("x\n0m0.001s 0m0.002s\n0m1.500s 0m0.500s\n")).isEqualTo(2.0);
    }
}

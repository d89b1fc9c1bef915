package io.sluice.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import org.junit.jupiter.api.io.TempDir;
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

    /**
     * {@code --url} against a server this test starts (the mock provider in this JVM, standing in for any HTTPS
     * server): no mock of the engine's own, two interleaved rounds, the server's own count proves every request
     * reached it, and "connections" is what each client held.
     */
    @Test
    @Timeout(180)
    void urlRunsEveryClientAgainstTheGivenServerInInterleavedRounds(@TempDir Path dir) throws Exception {
        try (MockProvider server = MockProvider.start(MockOptions.builder().maxConcurrentStreams(128).build())) {
            Path ca = dir.resolve("ca.pem");
            Files.writeString(ca, server.certificatePem());
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int rc;
            try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                 PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
                rc = CompareMain.run(new String[] {"--json", "--requests", "200", "--concurrency", "8",
                        "--clients", "sluice,reactor-netty", "--warmup", "50", "--repeat", "2",
                        "--url", server.httpsUri() + "/v1/chat/completions", "--cacert", ca.toString()}, o, e);
            }
            String stderr = err.toString(StandardCharsets.UTF_8);
            assertThat(rc).as(stderr).isZero();
            assertThat(stderr).doesNotContain("mock provider for");
            // a, b, a, b: the second round starts after both clients ran once
            int round2 = stderr.indexOf("round 2 of 2");
            assertThat(round2).as(stderr).isPositive();
            assertThat(stderr.substring(0, round2)).contains("[compare] sluice:", "[compare] reactor-netty:");
            assertThat(stderr.substring(round2)).contains("[compare] sluice:", "[compare] reactor-netty:");
            JsonNode doc = new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
            assertThat(doc.get("target").asText()).isEqualTo(server.httpsUri() + "/v1/chat/completions");
            for (JsonNode r : doc.get("results")) {
                assertThat(r.get("errors").asLong()).as(r.toString()).isZero();
                assertThat(r.get("runs").asInt()).isEqualTo(2);
                // at most one per request in flight, plus Sluice's 10 warm idle connections (minIdle)
                assertThat(r.get("connections").asLong()).as(r.toString()).isBetween(1L, 8L + 10L);
            }
            assertThat(server.stats().requests("/v1/chat/completions")).isEqualTo(2 * 2 * (200 + 50));
        }
    }

    @Test
    void urlAndCacertAreCheckedBeforeAnythingRuns(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> CompareMain.parse(new String[] {"--url", "http://localhost:8080/"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("https://");
        assertThatThrownBy(() -> CompareMain.parse(new String[] {"--url", "https://localhost:8443", "--mode", "memory"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("throughput mode only");
        assertThatThrownBy(() -> CompareMain.parse(new String[] {"--cacert", "x.pem"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs --url");
        assertThatThrownBy(() -> CompareMain.parse(new String[] {"--url", "https://localhost:8443",
                "--cacert", dir.resolve("missing.pem").toString()}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no such readable file");
        Path junk = Files.writeString(dir.resolve("junk.pem"), "not a certificate");
        assertThatThrownBy(() -> CompareMain.parse(new String[] {"--url", "https://localhost:8443",
                "--cacert", junk.toString()}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a PEM certificate");
        CompareMain.Options o = CompareMain.parse(new String[] {"--url", "https://example.test:8443"});
        assertThat(o.url.toString()).isEqualTo("https://example.test:8443/v1/chat/completions");
    }

    @Test
    void parsesH2loadOutput() {
        assertThat(CompareMain.H2load.parseSeconds("finished in 3.02s, 66225.41 req/s, 10MB/s\n")).isEqualTo(3.02);
        assertThat(CompareMain.H2load.parseSeconds("finished in 812.5ms, 100 req/s\n")).isEqualTo(0.8125);
        assertThat(CompareMain.H2load.parseChildCpu("x\n0m0.001s 0m0.002s\n0m1.500s 0m0.500s\n")).isEqualTo(2.0);
    }
}

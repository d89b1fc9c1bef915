package io.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.testkit.MockProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code sluice probe}, in-process, against the testkit mock on loopback. No wall-clock assertions. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProbeCommandTest {

    private static MockProvider mock;
    @TempDir
    static Path dir;
    private static Path cert;

    @BeforeAll
    static void start() throws Exception {
        mock = MockProvider.start();
        cert = dir.resolve("mock.pem");
        Files.writeString(cert, mock.certificatePem());
    }

    @AfterAll
    static void stop() {
        mock.close();
    }

    private static JsonNode json(CliRun r) throws Exception {
        return new ObjectMapper().readTree(r.out());
    }

    private static int closedPort() throws Exception {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** One line on stderr, no stack trace. */
    private static void oneLine(CliRun r) {
        assertThat(r.errLines()).as(r.err()).hasSize(1);
        assertThat(r.err()).doesNotContain("\tat ").doesNotContain("Exception in");
    }

    // ------------------------------------------------------------------ success

    @Test
    void probesHttp2OverTlsAndReportsWhatWasNegotiated() throws Exception {
        CliRun r = CliRun.of("probe", mock.httpsUri() + "/ping", "--cacert", cert.toString(), "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode j = json(r);
        assertThat(j.get("url").asText()).isEqualTo(mock.httpsUri() + "/ping");
        assertThat(j.get("ok").asBoolean()).isTrue();
        assertThat(j.has("error")).isFalse();
        assertThat(j.get("protocol").asText()).isEqualTo("h2");
        assertThat(j.get("status").asInt()).isEqualTo(200);
        assertThat(j.get("tls_version").asText()).isIn("TLSv1.3", "TLSv1.2");
        assertThat(j.get("cipher").asText()).isNotBlank();
        assertThat(j.get("peer_max_streams").asInt()).isEqualTo(mock.maxConcurrentStreams());
        // What a user on an unsupported platform needs to see: which transport and TLS engine actually loaded.
        String expectedTransport = io.netty.channel.epoll.Epoll.isAvailable() ? "epoll" : "nio";
        assertThat(j.get("transport").asText()).isEqualTo(expectedTransport);
        assertThat(j.get("tls_provider").asText()).isEqualTo(io.netty.handler.ssl.OpenSsl.isAvailable() ? "OPENSSL" : "JDK");
    }

    @Test
    void http1FlagNegotiatesHttp11() throws Exception {
        CliRun r = CliRun.of("probe", mock.httpsUri() + "/ping", "--cacert", cert.toString(), "--http1", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode j = json(r);
        assertThat(j.get("protocol").asText()).isEqualTo("http/1.1");
        assertThat(j.get("peer_max_streams").isNull()).isTrue();
    }

    @Test
    void humanOutputNamesEachField() {
        CliRun r = CliRun.of("probe", mock.httpsUri() + "/ping", "--cacert", cert.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).containsPattern("(?m)^protocol +h2$").containsPattern("(?m)^status +200$")
                .contains("handshake").containsPattern("(?m)^peer max streams +\\d+")
                .containsPattern("(?m)^transport +(epoll|io_uring|nio)$");
    }

    @Test
    void metricsFlagPrintsTheExpositionOfTheProbesClient() throws Exception {
        CliRun r = CliRun.of("probe", mock.httpsUri() + "/ping", "--cacert", cert.toString(), "--metrics");
        assertThat(r.exitCode()).as(r.err()).isZero();
        String route = "https://" + mock.httpsUri().getHost() + ":" + mock.httpsUri().getPort();
        assertThat(r.out()).containsPattern("(?m)^status +200$")
                .contains("# TYPE connection_pool_wait_time_seconds histogram\n")
                .contains("# TYPE connection_pool_total counter\n")
                .contains("connection_pool_total{pool=\"" + route + "\"} 2.0\n") // cold and warm connection
                .contains("sluice_connection_tls_handshake_duration_seconds_count{")
                // 1 or 2: the second call's end event may land just after the exposition was taken
                .containsPattern("sluice_http_client_requests_total\\{method=\"GET\",protocol=\"h2\",route=\""
                        + java.util.regex.Pattern.quote(route) + "\",status=\"2xx\"} [12]\\.0\n");
        CliRun j = CliRun.of("probe", mock.httpsUri() + "/ping", "--cacert", cert.toString(), "--metrics", "--json");
        assertThat(j.exitCode()).as(j.err()).isZero();
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(j.out()).get("metrics").asText())
                .contains("# TYPE connection_pool_active gauge\n");
    }

    // ------------------------------------------------------------------ 1: --timeout DURATION

    @Test
    void timeoutTakesOnlyAPositiveDurationAndTimeoutMsIsGone() {
        for (String bad : new String[] {"0s", "-5s", "abc", "10"}) {
            CliRun r = CliRun.of("probe", mock.httpsUri() + "/ping", "--cacert", cert.toString(), "--timeout", bad);
            assertThat(r.exitCode()).as("--timeout %s: %s", bad, r.err()).isEqualTo(ExitCode.USAGE);
            oneLine(r);
            assertThat(r.err()).contains("--timeout").contains(bad).startsWith("sluice probe: ");
        }
        CliRun old = CliRun.of("probe", mock.httpsUri() + "/ping", "--timeout-ms", "1000");
        assertThat(old.exitCode()).isEqualTo(ExitCode.USAGE);
        oneLine(old);
    }

    @Test
    void timeoutBoundsTheWaitForTheResponseHeaders() throws Exception {
        // Cleartext, and a bound well above a cold JVM's first connect: the request, not the connect, times out.
        CliRun r = CliRun.of("probe", mock.httpUri() + "/ping", "--timeout", "2s", "--header", "x-mock-blackhole:true",
                "--json");
        assertThat(r.exitCode()).as(r.err()).isEqualTo(ExitCode.RUNTIME);
        oneLine(r);
        assertThat(r.err()).contains("RequestTimeoutException").contains("headers");
        JsonNode e = json(r).get("error");
        assertThat(e.get("kind").asText()).isEqualTo("RequestTimeoutException");
        assertThat(e.get("phase").asText()).isEqualTo("headers");
        assertThat(e.get("message").asText()).contains("2000 ms");
    }

    // ------------------------------------------------------------------ 2: --cacert checked first

    @Test
    void aMissingOrNonPemCacertIsAUsageErrorFoundBeforeConnecting() throws Exception {
        // A closed port: had the probe connected first, it would fail with exit code 3 instead.
        String url = "https://127.0.0.1:" + closedPort() + "/ping";
        CliRun missing = CliRun.of("probe", url, "--cacert", dir.resolve("nonexistent.pem").toString());
        assertThat(missing.exitCode()).as(missing.err()).isEqualTo(ExitCode.USAGE);
        oneLine(missing);
        assertThat(missing.err()).contains("--cacert").contains("no such file");

        Path notPem = dir.resolve("not.pem");
        Files.writeString(notPem, "hello\n");
        CliRun garbage = CliRun.of("probe", url, "--cacert", notPem.toString());
        assertThat(garbage.exitCode()).as(garbage.err()).isEqualTo(ExitCode.USAGE);
        oneLine(garbage);
        assertThat(garbage.err()).contains("--cacert").contains("no PEM certificate");
    }

    @Test
    void aUrlThatIsNotHttpIsAUsageError() {
        CliRun r = CliRun.of("probe", "ftp://example.com/x");
        assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE);
        oneLine(r);
    }

    // ------------------------------------------------------------------ 3: failures are runtime errors, typed

    @Test
    void anUntrustedCertificateFailsWithTheTypedErrorOnOneLine() throws Exception {
        CliRun r = CliRun.of("probe", mock.httpsUri() + "/ping");
        assertThat(r.exitCode()).isEqualTo(ExitCode.RUNTIME);
        oneLine(r);
        assertThat(r.err()).startsWith("sluice probe: TlsFailedException (tls):").contains("untrusted");
        assertThat(r.out()).isEmpty();

        CliRun j = CliRun.of("probe", mock.httpsUri() + "/ping", "--json");
        assertThat(j.exitCode()).isEqualTo(ExitCode.RUNTIME);
        JsonNode o = json(j);
        assertThat(o.get("ok").asBoolean()).isFalse();
        assertThat(o.get("url").asText()).isEqualTo(mock.httpsUri() + "/ping");
        assertThat(o.get("error").get("kind").asText()).isEqualTo("TlsFailedException");
        assertThat(o.get("error").get("phase").asText()).isEqualTo("tls");
        assertThat(o.get("error").get("message").asText()).contains("untrusted");
    }

    @Test
    void connectionRefusedFailsWithConnectFailed() throws Exception {
        String url = "http://127.0.0.1:" + closedPort() + "/ping";
        CliRun r = CliRun.of("probe", url);
        assertThat(r.exitCode()).isEqualTo(ExitCode.RUNTIME);
        oneLine(r);
        assertThat(r.err()).startsWith("sluice probe: ConnectFailedException (connect):");

        CliRun j = CliRun.of("probe", url, "--json");
        assertThat(j.exitCode()).isEqualTo(ExitCode.RUNTIME);
        oneLine(j);
        JsonNode o = json(j);
        assertThat(o.get("ok").asBoolean()).isFalse();
        assertThat(o.get("url").asText()).isEqualTo(url);
        assertThat(o.get("error").get("kind").asText()).isEqualTo("ConnectFailedException");
        assertThat(o.get("error").get("phase").asText()).isEqualTo("connect");
    }

    @Test
    void aConnectionResetMidResponseIsARuntimeError() throws Exception {
        CliRun r = CliRun.of("probe", mock.httpUri() + "/ping", "--header", "x-mock-reset-connection-after-bytes:0",
                "--json");
        assertThat(r.exitCode()).as(r.out() + r.err()).isEqualTo(ExitCode.RUNTIME);
        oneLine(r);
        JsonNode e = json(r).get("error");
        assertThat(e.get("kind").asText()).isEqualTo("ConnectionLostException");
        assertThat(e.get("phase").asText()).isIn("headers", "body");
    }

    @Test
    void theLibrarysWarningsAreQuietWhileProbing() {
        // A refused connect is logged by the pool at WARN on System.err (which CliRun does not capture):
        // the probe raises the library's level so that its own line is the only one.
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("SLUICE_DEBUG") == null);
        org.slf4j.Logger pool = org.slf4j.LoggerFactory.getLogger("io.sluice.pool.Pool");
        boolean before = pool.isWarnEnabled();
        Runnable restore = ProbeCommand.quietLibraryLogs();
        try {
            assertThat(pool.isWarnEnabled()).isFalse();
            assertThat(pool.isErrorEnabled()).isTrue();
        } finally {
            restore.run();
        }
        assertThat(pool.isWarnEnabled()).isEqualTo(before);
    }

    // ------------------------------------------------------------------ 4: --h2c

    @Test
    void h2cSpeaksHttp2WithPriorKnowledgeOverCleartext() throws Exception {
        CliRun r = CliRun.of("probe", mock.httpUri() + "/ping", "--h2c", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode j = json(r);
        assertThat(j.get("protocol").asText()).isEqualTo("h2");
        assertThat(j.get("tls_version").isNull()).isTrue();
        assertThat(j.get("peer_max_streams").asInt()).isEqualTo(mock.maxConcurrentStreams());

        CliRun plain = CliRun.of("probe", mock.httpUri() + "/ping", "--json");
        assertThat(plain.exitCode()).as(plain.err()).isZero();
        assertThat(json(plain).get("protocol").asText()).isEqualTo("http/1.1");
    }

    @Test
    void h2cWithHttpsIsAUsageError() {
        CliRun r = CliRun.of("probe", mock.httpsUri() + "/ping", "--h2c", "--cacert", cert.toString());
        assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE);
        oneLine(r);
        assertThat(r.err()).contains("--h2c").contains("http://");
    }

    // ------------------------------------------------------------------ 5: --fail

    @Test
    void failTurnsANon2xxStatusIntoANegativeVerdict() throws Exception {
        CliRun r = CliRun.of("probe", mock.httpUri() + "/ping", "--header", "x-mock-status:503", "--fail");
        assertThat(r.exitCode()).as(r.err()).isEqualTo(ExitCode.NOT_MET);
        assertThat(r.out()).containsPattern("(?m)^status +503$");
        oneLine(r);
        assertThat(r.err()).contains("503").contains("--fail");

        CliRun j = CliRun.of("probe", mock.httpUri() + "/ping", "--header", "x-mock-status:503", "--fail", "--json");
        assertThat(j.exitCode()).isEqualTo(ExitCode.NOT_MET);
        assertThat(json(j).get("status").asInt()).isEqualTo(503);
        assertThat(json(j).get("ok").asBoolean()).isFalse();
    }

    @Test
    void withoutFailAnyStatusIsSuccess() throws Exception {
        CliRun r = CliRun.of("probe", mock.httpUri() + "/ping", "--header", "x-mock-status:503", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(json(r).get("status").asInt()).isEqualTo(503);
        assertThat(json(r).get("ok").asBoolean()).isTrue();

        CliRun ok = CliRun.of("probe", mock.httpUri() + "/ping", "--fail");
        assertThat(ok.exitCode()).as(ok.err()).isZero();
    }

    // ------------------------------------------------------------------ 6: cold and warm timings

    @Test
    void reportsAColdAndAWarmConnectionOverTls() throws Exception {
        CliRun r = CliRun.of("probe", mock.httpsUri() + "/ping", "--cacert", cert.toString(), "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode j = json(r);
        JsonNode cold = j.get("cold");
        JsonNode warm = j.get("warm");
        assertThat(cold).as(r.out()).isNotNull();
        assertThat(warm).as(r.out()).isNotNull();
        for (JsonNode t : new JsonNode[] {cold, warm}) {
            assertThat(t.get("handshake_ms").asDouble()).isPositive();
            assertThat(t.get("ttfb_ms").asDouble()).isPositive();
            assertThat(t.get("handshake_resumed").isBoolean()).isTrue();
            assertThat(t.get("status").asInt()).isEqualTo(200);
            assertThat(t.get("local_address").asText()).matches("[^/]*:\\d+");
        }
        assertThat(cold.get("handshake_resumed").asBoolean()).as("the first connection has nothing to resume").isFalse();
        assertThat(warm.get("local_address").asText()).as("a second connection")
                .isNotEqualTo(cold.get("local_address").asText());
        assertThat(cold.get("label").asText()).contains("first connection").contains("JVM warm-up");
        assertThat(warm.get("label").asText()).contains("second connection");
    }

    @Test
    void reportsAColdAndAWarmConnectionOverCleartextWithoutAHandshake() throws Exception {
        CliRun r = CliRun.of("probe", mock.httpUri() + "/ping", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode j = json(r);
        for (String k : new String[] {"cold", "warm"}) {
            assertThat(j.get(k)).as(r.out()).isNotNull();
            assertThat(j.get(k).get("handshake_ms").isNull()).isTrue();
            assertThat(j.get(k).get("ttfb_ms").asDouble()).isPositive();
        }
        assertThat(j.get("warm").get("local_address").asText())
                .isNotEqualTo(j.get("cold").get("local_address").asText());
    }

    @Test
    void textOutputLabelsColdAndWarm() {
        CliRun r = CliRun.of("probe", mock.httpsUri() + "/ping", "--cacert", cert.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("cold: first connection, includes JVM warm-up")
                .contains("warm: second connection");
        assertThat(r.out().lines().filter(l -> l.strip().startsWith("handshake")).count()).isEqualTo(2);
        assertThat(r.out().lines().filter(l -> l.strip().startsWith("ttfb")).count()).isEqualTo(2);
    }

    // ------------------------------------------------------------------ 7: help

    @Test
    void helpListsTheOptionsAndTheExitCodes() {
        CliRun r = CliRun.of("probe", "--help");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("--timeout=DURATION").contains("--h2c").contains("--fail").contains("--cacert=FILE")
                .contains("[--header=NAME:VALUE]...").contains("--header=NAME:VALUE").contains("--json").contains("Exit codes:").contains("verdict negative")
                .doesNotContain("--timeout-ms");
    }
}

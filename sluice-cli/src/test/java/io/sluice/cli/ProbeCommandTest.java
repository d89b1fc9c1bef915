package io.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.testkit.MockProvider;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

@ExtendWith(MockProviderExtension.class)
class ProbeCommandTest {

    @InjectMock
    private static MockProvider mock;
    @TempDir
    static Path dir;
    private static Path cert;

    @BeforeAll
    static void writeCertificate() throws Exception {
        cert = dir.resolve("mock.pem");
        Files.writeString(cert, mock.certificatePem());
    }

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cl = SluiceCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void probesHttp2OverTlsAndReportsWhatWasNegotiated() throws Exception {
        Run r = run("probe", mock.httpsUri() + "/ping", "--cacert", cert.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("protocol").asText()).isEqualTo("h2");
        assertThat(j.get("status").asInt()).isEqualTo(200);
        assertThat(j.get("tls_version").asText()).isIn("TLSv1.3", "TLSv1.2");
        assertThat(j.get("cipher").asText()).isNotBlank();
        assertThat(j.get("handshake_ms").asDouble()).isPositive();
        assertThat(j.get("ttfb_ms").asDouble()).isPositive();
        assertThat(j.get("peer_max_streams").asInt()).isEqualTo(mock.maxConcurrentStreams());
    }

    @Test
    void http1FlagNegotiatesHttp11() throws Exception {
        Run r = run("probe", mock.httpsUri() + "/ping", "--cacert", cert.toString(), "--http1", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("protocol").asText()).isEqualTo("http/1.1");
        assertThat(j.get("peer_max_streams").isNull()).isTrue();
    }

    @Test
    void humanOutputNamesEachField() {
        Run r = run("probe", mock.httpsUri() + "/ping", "--cacert", cert.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("protocol     h2").contains("status       200").contains("handshake")
                .contains("peer max streams");
    }

    @Test
    void anUntrustedCertificateFailsWithTheTypedErrorOnOneLine() {
        Run r = run("probe", mock.httpsUri() + "/ping");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip()).startsWith("probe failed: TlsFailedException:").contains("untrusted")
                .doesNotContain("\n");
    }

    @Test
    void connectionRefusedFailsWithConnectFailed() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Run r = run("probe", "http://127.0.0.1:" + port + "/ping");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("probe failed: ConnectFailedException:");
    }
}

package io.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.testkit.adversary.AdversaryHttp1Server;
import io.sluice.testkit.adversary.Http1RequestRecord;
import io.sluice.testkit.adversary.Http1Script;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The adversary HTTP/1.1 server does what its scripts say, seen from a plain JDK socket: replies
 * before the body, keep-alive reuse, FIN, half-close, reset, idle close; records what arrived.
 */
@Timeout(30)
class AdversaryHttp1ServerTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

    @Test
    void repliesBeforeReadingTheBodyAndRecordsItAfterwards() throws Exception {
        try (AdversaryHttp1Server server = AdversaryHttp1Server.builder()
                .script(1, Http1Script.reply().response(413, "too big")).start();
             Socket s = socket(server)) {
            send(s, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n");
            assertThat(readExactly(s, "HTTP/1.1 413 Content Too Large\r\nContent-Length: 7\r\n\r\ntoo big".length()))
                    .startsWith("HTTP/1.1 413").endsWith("too big");
            Http1RequestRecord r = server.request(1);
            assertThat(r.bodyComplete()).isFalse();
            send(s, "0123456789");
            org.awaitility.Awaitility.await().atMost(WAIT).until(r::bodyComplete);
            assertThat(r.bodyAsString()).isEqualTo("0123456789");
            assertThat(r.method()).isEqualTo("POST");
            assertThat(r.target()).isEqualTo("/upload");
            assertThat(r.header("content-length")).isEqualTo("10");
        }
    }

    @Test
    void keepsAliveAndNumbersRequestsAcrossConnections() throws Exception {
        try (AdversaryHttp1Server server = AdversaryHttp1Server.builder().start()) {
            try (Socket s = socket(server)) {
                send(s, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
                assertThat(readExactly(s, OK.length())).isEqualTo(OK);
                send(s, "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
                assertThat(readExactly(s, OK.length())).isEqualTo(OK);
            }
            try (Socket s = socket(server)) {
                send(s, "GET /c HTTP/1.1\r\nHost: x\r\n\r\n");
                assertThat(readExactly(s, OK.length())).isEqualTo(OK);
            }
            assertThat(server.connections()).isEqualTo(2);
            assertThat(server.requests()).extracting(Http1RequestRecord::connectionNumber).containsExactly(1, 1, 2);
            assertThat(server.request(2).bodyAsString()).isEqualTo("abcde");
            assertThat(server.request(2).bodyComplete()).isTrue();
        }
    }

    @Test
    void closesWithFinAfterAnswering() throws Exception {
        try (AdversaryHttp1Server server = AdversaryHttp1Server.builder()
                .script(1, Http1Script.reply().readBody().response(200, "ok", "Connection: keep-alive").close())
                .start();
             Socket s = socket(server)) {
            send(s, "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
            String all = readToEof(s);
            assertThat(all).startsWith("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n").endsWith("ok");
        }
    }

    @Test
    void resetsWithSoLingerZero() throws Exception {
        try (AdversaryHttp1Server server = AdversaryHttp1Server.builder()
                .script(1, Http1Script.reply().readBody().reset()).start();
             Socket s = socket(server)) {
            send(s, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThatThrownBy(() -> s.getInputStream().read()).isInstanceOf(SocketException.class)
                    .hasMessageContaining("reset");
        }
    }

    @Test
    void halfClosesAndRecordsRequestsSentAfterIt() throws Exception {
        try (AdversaryHttp1Server server = AdversaryHttp1Server.builder()
                .script(1, Http1Script.reply().readBody().response(200, "ok").closeOutput()).start();
             Socket s = socket(server)) {
            send(s, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(readToEof(s)).endsWith("ok");
            send(s, "GET /late HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(server.awaitRequests(2, WAIT)).isTrue();
            assertThat(server.request(2).afterServerClosed()).isTrue();
            assertThat(server.request(2).connectionNumber()).isEqualTo(1);
        }
    }

    @Test
    void sendsRawBytesWithPausesAndLeavesTheBodyShort() throws Exception {
        try (AdversaryHttp1Server server = AdversaryHttp1Server.builder()
                .script(1, Http1Script.reply()
                        .send("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100\r\n\r\n")
                        .pause(100).send("0123456789"))
                .start();
             Socket s = socket(server)) {
            send(s, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
            String head = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100\r\n\r\n";
            assertThat(readExactly(s, head.length() + 10)).isEqualTo(head + "0123456789");
            s.setSoTimeout(300);
            assertThatThrownBy(() -> s.getInputStream().read()).isInstanceOf(java.net.SocketTimeoutException.class);
        }
    }

    @Test
    void closesIdleConnectionsAfterItsIdleTimeout() throws Exception {
        try (AdversaryHttp1Server server = AdversaryHttp1Server.builder().idleTimeout(Duration.ofMillis(200)).start();
             Socket s = socket(server)) {
            send(s, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(readExactly(s, OK.length())).isEqualTo(OK);
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
    }

    @Test
    void servesTls() throws Exception {
        try (AdversaryHttp1Server server = AdversaryHttp1Server.builder().tls(true).start()) {
            HttpClient jdk = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .sslContext(TestClients.sslContext(server.certificatePem())).connectTimeout(WAIT).build();
            HttpResponse<String> r = jdk.send(HttpRequest.newBuilder(server.uri().resolve("/v1/models")).timeout(WAIT)
                    .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("ok");
            assertThat(server.request(1).bodyAsString()).isEqualTo("{}");
        }
    }

    private static Socket socket(AdversaryHttp1Server server) throws IOException {
        Socket s = new Socket("127.0.0.1", server.port());
        s.setSoTimeout((int) WAIT.toMillis());
        return s;
    }

    private static void send(Socket s, String text) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    private static String readExactly(Socket s, int n) throws IOException {
        byte[] b = s.getInputStream().readNBytes(n);
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static String readToEof(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        in.transferTo(all);
        return all.toString(StandardCharsets.ISO_8859_1);
    }
}

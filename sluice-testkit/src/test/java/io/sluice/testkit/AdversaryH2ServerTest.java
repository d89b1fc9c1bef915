package io.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Settings;
import io.sluice.testkit.adversary.AdversaryH2Server;
import io.sluice.testkit.adversary.H2ConnectionRecord;
import io.sluice.testkit.adversary.H2Script;
import io.sluice.testkit.adversary.H2StreamRecord;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The adversary HTTP/2 server does what its scripts say, seen from a frame-level client
 * ({@link RawH2Client}) and, for TLS, from the JDK's HTTP/2 client: frames in the scripted order,
 * no flow-control credit unless asked, PING ACKs withheld on request, records of what arrived.
 */
@Timeout(30)
class AdversaryH2ServerTest {
    private static final long WAIT_MS = 5_000;
    private static final long SILENCE_MS = 300;
    private static final Duration WAIT = Duration.ofMillis(WAIT_MS);

    @Test
    void answersBeforeTheBodyThenResetsWithNoError() throws Exception {
        try (AdversaryH2Server server = AdversaryH2Server.builder()
                .script(1, H2Script.stream().headers(200).data("ok", true).rstStream(Http2Error.NO_ERROR)).start();
             RawH2Client c = new RawH2Client(server.port())) {
            c.headersOnly(1, "/upload");
            assertThat(c.await("HEADERS 1", WAIT_MS)).as("%s %s", server.streams(), server.connectionRecords()).isEqualTo("HEADERS 1 200 end=false");
            assertThat(c.await("DATA 1", WAIT_MS)).isEqualTo("DATA 1 2 end=true");
            assertThat(c.await("RST 1", WAIT_MS)).isEqualTo("RST 1 0");
            H2StreamRecord s = server.stream(1);
            assertThat(s.method()).isEqualTo("POST");
            assertThat(s.path()).isEqualTo("/upload");
            assertThat(s.endStreamReceived()).isFalse();
            c.data(1, "abc", true); // a client that keeps sending after the reset: still recorded
            assertThat(s.awaitRequestEnd(WAIT)).isTrue();
            assertThat(s.bodyBytes()).isEqualTo(3);
        }
    }

    @Test
    void sendsItsSettingsAndAcksTheClientsUnlessTold() throws Exception {
        try (AdversaryH2Server server = AdversaryH2Server.builder().maxConcurrentStreams(7).initialWindowSize(1000)
                .script(1, H2Script.stream().awaitRequestBody().headers(200, true)).start();
             RawH2Client c = new RawH2Client(server.port())) {
            String settings = c.await("SETTINGS ", WAIT_MS);
            assertThat(settings).contains("MAX_CONCURRENT_STREAMS=7").contains("INITIAL_WINDOW_SIZE=1000");
            assertThat(c.await("SETTINGS_ACK", WAIT_MS)).isEqualTo("SETTINGS_ACK");
            c.post(1, "/a", "{\"x\":1}");
            assertThat(c.await("HEADERS 1", WAIT_MS)).as("%s %s", server.streams(), server.connectionRecords()).isEqualTo("HEADERS 1 200 end=true");
            assertThat(server.stream(1).bodyBytes()).isEqualTo(7);
            assertThat(server.connectionRecords().get(0).settingsAcksReceived()).isEqualTo(1);
        }
        try (AdversaryH2Server server = AdversaryH2Server.builder().ackClientSettings(false)
                .script(1, H2Script.stream().awaitRequestBody().headers(200, true)).start();
             RawH2Client c = new RawH2Client(server.port())) {
            c.post(1, "/a", "{}");
            assertThat(c.await("HEADERS 1", WAIT_MS)).as("%s %s", server.streams(), server.connectionRecords()).isNotNull();
            assertThat(c.await("SETTINGS_ACK", SILENCE_MS)).isNull();
        }
    }

    @Test
    void windowUpdatesOnlyWhereScripted() throws Exception {
        try (AdversaryH2Server server = AdversaryH2Server.builder()
                .script(1, H2Script.stream().awaitRequestBody().headers(200, true))
                .script(2, H2Script.stream().grantRequestBody().awaitRequestBody().windowUpdate(5)
                        .connectionWindowUpdate(6).headers(204, true))
                .start();
             RawH2Client c = new RawH2Client(server.port())) {
            c.post(1, "/a", "0123456789");
            assertThat(c.await(e -> e.startsWith("WINDOW_UPDATE") || e.startsWith("HEADERS 1"), WAIT_MS))
                    .isEqualTo("HEADERS 1 200 end=true");
            c.post(3, "/b", "0123456789");
            assertThat(c.await("WINDOW_UPDATE", WAIT_MS)).isEqualTo("WINDOW_UPDATE 3 10");
            assertThat(c.await("WINDOW_UPDATE", WAIT_MS)).isEqualTo("WINDOW_UPDATE 0 10");
            assertThat(c.await("WINDOW_UPDATE", WAIT_MS)).isEqualTo("WINDOW_UPDATE 3 5");
            assertThat(c.await("WINDOW_UPDATE", WAIT_MS)).isEqualTo("WINDOW_UPDATE 0 6");
            assertThat(c.await("HEADERS 3", WAIT_MS)).as("%s %s", server.streams(), server.connectionRecords()).isEqualTo("HEADERS 3 204 end=true");
        }
    }

    @Test
    void goAwayWithAnyLastStreamIdAndScriptedSettingsAndPing() throws Exception {
        Http2Settings lower = new Http2Settings().maxConcurrentStreams(1);
        try (AdversaryH2Server server = AdversaryH2Server.builder()
                .script(1, H2Script.stream().headers(200, true))
                .script(2, H2Script.stream().settings(lower).ping(77).goAwayBelowThisStream(Http2Error.NO_ERROR)
                        .goAway(99, 0xBAD))
                .start();
             RawH2Client c = new RawH2Client(server.port())) {
            c.post(1, "/a", "{}");
            assertThat(c.await("HEADERS 1", WAIT_MS)).as("%s %s", server.streams(), server.connectionRecords()).isEqualTo("HEADERS 1 200 end=true");
            c.post(3, "/b", "{}");
            assertThat(c.await("SETTINGS ", WAIT_MS)).contains("MAX_CONCURRENT_STREAMS=1");
            assertThat(c.await("PING ", WAIT_MS)).isEqualTo("PING 77");
            assertThat(c.await("GOAWAY", WAIT_MS)).isEqualTo("GOAWAY 1 0");
            assertThat(c.await("GOAWAY", WAIT_MS)).isEqualTo("GOAWAY 99 " + 0xBAD);
        }
    }

    @Test
    void withholdsPingAcksWhenToldAndRecordsPings() throws Exception {
        try (AdversaryH2Server server = AdversaryH2Server.builder().ackPings(false).start();
             RawH2Client c = new RawH2Client(server.port())) {
            c.ping(42);
            assertThat(c.await("PING_ACK", SILENCE_MS)).isNull();
            server.ackPings(true);
            c.ping(43);
            assertThat(c.await("PING_ACK", WAIT_MS)).isEqualTo("PING_ACK 43");
            H2ConnectionRecord conn = server.connectionRecords().get(0);
            assertThat(conn.pingsReceived()).containsExactly(42L, 43L);
        }
    }

    @Test
    void pausesAndClosesTheConnectionAfterTheWholeBody() throws Exception {
        try (AdversaryH2Server server = AdversaryH2Server.builder()
                .script(1, H2Script.stream().awaitRequestBody().pause(100).closeConnection()).start();
             RawH2Client c = new RawH2Client(server.port())) {
            c.headersOnly(1, "/a");
            c.data(1, "first", false);
            assertThat(c.await(e -> e.startsWith("HEADERS") || e.equals("CLOSED"), SILENCE_MS)).isNull();
            c.data(1, "second", true);
            assertThat(c.await("CLOSED", WAIT_MS)).isEqualTo("CLOSED");
            H2StreamRecord s = server.stream(1);
            assertThat(s.endStreamReceived()).isTrue();
            assertThat(s.bodyBytes()).isEqualTo(11);
            assertThat(server.streams()).hasSize(1);
        }
    }

    @Test
    void writesRawBytesAndResetsTheConnection() throws Exception {
        byte[] pingFrame = {0, 0, 8, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 42}; // PING, payload 42
        try (AdversaryH2Server server = AdversaryH2Server.builder()
                // The pause lets the client read the PING before the reset: a TCP RST makes the receiving
                // kernel drop bytes it has not handed to the reader yet, so without it the test races.
                .script(1, H2Script.stream().raw(pingFrame).pause(200).resetConnection()).start();
             RawH2Client c = new RawH2Client(server.port())) {
            c.post(1, "/a", "{}");
            assertThat(c.await("PING ", WAIT_MS)).isEqualTo("PING 42");
            assertThat(c.await("CLOSED", WAIT_MS)).isEqualTo("CLOSED");
            org.awaitility.Awaitility.await().atMost(WAIT).until(() -> server.connectionRecords().get(0).closed());
        }
    }

    @Test
    void numbersRequestsAcrossConnections() throws Exception {
        try (AdversaryH2Server server = AdversaryH2Server.builder()
                .scripts(H2Script.stream().headers(201, true), H2Script.stream().rstStream(Http2Error.REFUSED_STREAM))
                .defaultScript(H2Script.stream().headers(202, true)).start();
             RawH2Client a = new RawH2Client(server.port());
             RawH2Client b = new RawH2Client(server.port())) {
            a.post(1, "/x", "{}");
            assertThat(a.await("HEADERS 1", WAIT_MS)).as("%s %s", server.streams(), server.connectionRecords()).isEqualTo("HEADERS 1 201 end=true");
            b.post(1, "/y", "{}");
            assertThat(b.await("RST 1", WAIT_MS)).isEqualTo("RST 1 " + Http2Error.REFUSED_STREAM.code());
            a.post(3, "/z", "{}");
            assertThat(a.await("HEADERS 3", WAIT_MS)).as("%s %s", server.streams(), server.connectionRecords()).isEqualTo("HEADERS 3 202 end=true");
            assertThat(server.connections()).isEqualTo(2);
            assertThat(server.streams()).extracting(H2StreamRecord::path).containsExactly("/x", "/y", "/z");
            assertThat(server.streams()).extracting(H2StreamRecord::connectionNumber).containsExactly(1, 2, 1);
        }
    }

    @Test
    void servesH2OverTlsWithAlpn() throws Exception {
        try (AdversaryH2Server server = AdversaryH2Server.builder().tls(true).start()) {
            HttpClient jdk = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
                    .sslContext(TestClients.sslContext(server.certificatePem())).connectTimeout(WAIT).build();
            HttpResponse<String> r = jdk.send(HttpRequest.newBuilder(server.uri().resolve("/v1/models"))
                    .timeout(WAIT).POST(HttpRequest.BodyPublishers.ofString("{\"a\":1}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("ok");
            assertThat(server.stream(1).bodyBytes()).isEqualTo(7);
            assertThat(server.stream(1).endStreamReceived()).isTrue();
        }
    }
}

package io.sluice.http.faults;

import static io.sluice.http.faults.FaultSupport.assertAccountingExact;
import static io.sluice.http.faults.FaultSupport.chat;
import static io.sluice.http.faults.FaultSupport.clientFor;
import static io.sluice.http.faults.FaultSupport.failsWithin;
import static io.sluice.http.faults.FaultSupport.pool;
import static io.sluice.http.faults.FaultSupport.within;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.RequestTimeoutException;
import io.sluice.http.RequestTimeoutException.Phase;
import io.sluice.http.StreamingResponse;
import io.sluice.http.Timeouts;
import io.sluice.http.faults.FaultSupport.Proto;
import io.sluice.testkit.MockProvider;
import io.sluice.testkit.adversary.SilentPeer;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Fault matrix rows 6 (black hole: connect, headers, body idle, total) and 7 (slow headers). */
@ExtendWith(MockProviderExtension.class)
class TimeoutFaultTest {

    private static final Duration SHORT = Duration.ofMillis(400);
    @InjectMock
    static MockProvider mock;

    /**
     * Row 6, CONNECT: a listener that never accepts (the kernel completes TCP from its backlog, nobody reads). Over TLS
     * the handshake never completes; over h2c the server's SETTINGS never come. Both are the CONNECT phase.
     */
    @ParameterizedTest
    @ValueSource(strings = {"https", "h2c"})
    void row06_blackHoleConnect(String mode) throws Exception {
        try (ServerSocket never = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
             ConnectionPoolManager client = ConnectionPoolManager.builder().poolConfig(pool().build())
                     .timeouts(new Timeouts(SHORT, Duration.ofSeconds(30), Duration.ofSeconds(30), null))
                     .h2cPriorKnowledge(mode.equals("h2c")).build()) {
            URI uri = URI.create((mode.equals("https") ? "https" : "http") + "://127.0.0.1:" + never.getLocalPort() + "/ping");
            RequestTimeoutException e = failsWithin(client.send(HttpRequest.newBuilder(uri).build()), SHORT,
                    RequestTimeoutException.class);
            assertThat(e.phase()).isEqualTo(Phase.CONNECT);
            assertThat(e.retryable()).isTrue();
            assertAccountingExact(client);
        }
    }

    /**
     * Row 6, CONNECT bounded once: a peer takes the TCP connection and the ClientHello and never
     * answers. The attempt fails at the connect timeout with a typed CONNECT timeout naming the TLS
     * stage, the client closes its socket, and it made one connection.
     */
    @Test
    void row06_silentTlsPeerTimesOutNamingTheStageAndTheSocketIsClosed() throws Exception {
        try (SilentPeer peer = SilentPeer.start();
             ConnectionPoolManager client = ConnectionPoolManager.builder().poolConfig(pool().build())
                     .timeouts(new Timeouts(SHORT, Duration.ofSeconds(30), Duration.ofSeconds(30), null)).build()) {
            RequestTimeoutException e = failsWithin(client.send(HttpRequest.newBuilder(peer.uri("https", "/ping"))
                    .build()), SHORT, RequestTimeoutException.class);
            assertThat(e.phase()).isEqualTo(Phase.CONNECT);
            assertThat(e.getMessage()).contains("during the TLS handshake");
            assertThat(peer.awaitClosedByClient(1, Duration.ofSeconds(10)))
                    .as("the client closed the socket of the timed-out attempt").isTrue();
            assertThat(peer.bytesReceived()).as("the peer saw a ClientHello").isPositive();
            assertThat(peer.connections()).isEqualTo(1);
            assertAccountingExact(client);
        }
    }

    /**
     * Row 6, one owner per timeout: a caller that stops waiting (the pool's connectionTimeout,
     * shorter here) fails with ACQUIRE, but does not cut the attempt short; the attempt runs to its
     * own connect timeout, the one deadline the connection manager owns, and then closes its socket.
     */
    @Test
    void row06_aCallerGivingUpDoesNotCutTheConnectAttemptShort() throws Exception {
        Duration connect = Duration.ofSeconds(4);
        try (SilentPeer peer = SilentPeer.start();
             ConnectionPoolManager client = ConnectionPoolManager.builder()
                     .poolConfig(pool().connectionTimeout(SHORT).build())
                     .timeouts(new Timeouts(connect, Duration.ofSeconds(30), Duration.ofSeconds(30), null)).build()) {
            RequestTimeoutException e = failsWithin(client.send(HttpRequest.newBuilder(peer.uri("https", "/ping"))
                    .build()), SHORT, RequestTimeoutException.class);
            assertThat(e.phase()).isEqualTo(Phase.ACQUIRE);
            // 3.6 s before the connect timeout: the pool's timer no longer ends (and closes) the attempt
            assertThat(peer.closedByClient()).as("attempt still open when the caller gave up").isZero();
            assertThat(peer.awaitClosedByClient(1, connect.plusSeconds(10)))
                    .as("the attempt ended at its own timeout and closed its socket").isTrue();
            assertThat(peer.connections()).isEqualTo(1);
            assertAccountingExact(client);
        }
    }

    /** Row 6, HEADERS: the server reads the request and never answers. */
    @ParameterizedTest
    @EnumSource(Proto.class)
    void row06_blackHoleHeaders(Proto p) {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            HttpRequest req = HttpRequest.newBuilder(p.uri(mock, "/v1/models")).header("x-mock-blackhole", "true")
                    .headersTimeout(SHORT).build();
            RequestTimeoutException e = failsWithin(client.send(req), SHORT, RequestTimeoutException.class);
            assertThat(e.phase()).isEqualTo(Phase.HEADERS);
            assertAccountingExact(client);
            assertThat(within(client.send(HttpRequest.newBuilder(p.uri(mock, "/ping")).build()), SHORT).status())
                    .isEqualTo(200);
            assertAccountingExact(client);
        }
    }

    /** Row 6, BODY_IDLE: the head and a token arrive, then nothing for longer than the idle bound. */
    @ParameterizedTest
    @EnumSource(Proto.class)
    void row06_bodyIdle(Proto p) {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            HttpRequest req = chat(p.uri(mock, "/v1/chat/completions"), true).header("x-mock-tokens", "3")
                    .header("x-mock-token-delay-ms", "5000").bodyIdleTimeout(SHORT).build();
            StreamingResponse r = within(client.stream(req), SHORT);
            RequestTimeoutException e = failsWithin(r.aggregate(), SHORT, RequestTimeoutException.class);
            assertThat(e.phase()).isEqualTo(Phase.BODY_IDLE);
            r.close();
            assertAccountingExact(client);
        }
    }

    /** Row 6, TOTAL: the optional overall deadline cuts a black-holed request. */
    @ParameterizedTest
    @EnumSource(Proto.class)
    void row06_totalDeadline(Proto p) {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            HttpRequest req = HttpRequest.newBuilder(p.uri(mock, "/v1/models")).header("x-mock-blackhole", "true")
                    .totalTimeout(SHORT).build();
            RequestTimeoutException e = failsWithin(client.send(req), SHORT, RequestTimeoutException.class);
            assertThat(e.phase()).isEqualTo(Phase.TOTAL);
            assertAccountingExact(client);
        }
    }

    /** Row 7: the response head dribbles in one byte at a time; it succeeds, and a HEADERS bound cuts a slow loris. */
    @Test
    void row07_slowHeaders_http1() {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            HttpRequest ok = HttpRequest.newBuilder(Proto.H1.uri(mock, "/ping")).header("x-mock-slow-headers-ms", "1")
                    .build();
            assertThat(within(client.send(ok), Duration.ofSeconds(10)).bodyAsString()).startsWith("pong");
            HttpRequest loris = HttpRequest.newBuilder(Proto.H1.uri(mock, "/ping"))
                    .header("x-mock-slow-headers-ms", "50").headersTimeout(SHORT).build();
            RequestTimeoutException e = failsWithin(client.send(loris), SHORT, RequestTimeoutException.class);
            assertThat(e.phase()).isEqualTo(Phase.HEADERS);
            assertAccountingExact(client);
        }
    }
}

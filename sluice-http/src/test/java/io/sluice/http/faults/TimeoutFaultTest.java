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
     * answers. The attempt fails at the connect timeout with the stage named, and the client closes
     * its socket (the peer reads EOF), whichever timer fires: the connect timeout here, or the pool's
     * shorter attempt timer in the second case, which cancels the attempt.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void row06_silentTlsPeerTimesOutNamingTheStageAndTheSocketIsClosed(boolean poolTimerFirst) throws Exception {
        java.util.concurrent.CountDownLatch closedByClient = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger helloBytes = new java.util.concurrent.atomic.AtomicInteger();
        Duration connect = poolTimerFirst ? Duration.ofSeconds(30) : SHORT;
        Duration poolAttempt = poolTimerFirst ? SHORT : Duration.ofSeconds(5);
        try (RawPeer peer = new RawPeer((sock, n) -> {
            java.io.InputStream in = sock.getInputStream();
            byte[] buf = new byte[4096];
            for (int r; (r = in.read(buf)) >= 0; ) {
                helloBytes.addAndGet(r); // the ClientHello, then nothing until the client closes
            }
            closedByClient.countDown();
        });
             ConnectionPoolManager client = ConnectionPoolManager.builder()
                     .poolConfig(pool().connectionTimeout(poolAttempt).build())
                     .timeouts(new Timeouts(connect, Duration.ofSeconds(30), Duration.ofSeconds(30), null)).build()) {
            URI uri = URI.create("https://127.0.0.1:" + peer.port() + "/ping");
            Throwable e = failsWithin(client.send(HttpRequest.newBuilder(uri).build()), SHORT,
                    io.sluice.http.SluiceHttpException.class);
            if (!poolTimerFirst) {
                assertThat(e).isInstanceOf(RequestTimeoutException.class);
                assertThat(((RequestTimeoutException) e).phase()).isEqualTo(Phase.CONNECT);
                assertThat(e.getMessage()).contains("during the TLS handshake");
            }
            assertThat(closedByClient.await(10, java.util.concurrent.TimeUnit.SECONDS))
                    .as("the client closed the socket of the abandoned attempt").isTrue();
            assertThat(helloBytes.get()).as("the peer saw a ClientHello").isPositive();
            assertThat(peer.connections.get()).isEqualTo(1);
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

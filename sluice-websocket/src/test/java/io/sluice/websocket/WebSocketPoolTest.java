package io.sluice.websocket;

import static io.sluice.websocket.WebSocketTestSupport.assertAccountingSettled;
import static io.sluice.websocket.WebSocketTestSupport.await5;
import static io.sluice.websocket.WebSocketTestSupport.delta;
import static io.sluice.websocket.WebSocketTestSupport.next;
import static io.sluice.websocket.WebSocketTestSupport.testPool;
import static io.sluice.websocket.WebSocketTestSupport.type;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.http.ClientClosedException;
import io.sluice.http.InvalidRequestException;
import io.sluice.http.LimitExceededException;
import io.sluice.http.ProtocolException;
import io.sluice.http.RequestTimeoutException;
import io.sluice.http.TlsFailedException;
import io.sluice.http.TlsOptions;
import io.sluice.http.spi.NettyTransport;
import io.sluice.pool.CloseReason;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import io.sluice.testkit.MockTokens;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The pooled WebSocket client against the testkit's {@code /v1/realtime} endpoint. */
class WebSocketPoolTest {

    private static final String KEY = "sk-test-ws-secret";
    @RegisterExtension
    static final MockProviderExtension MOCK = new MockProviderExtension();
    @RegisterExtension
    static final MockProviderExtension KEYED = MockProviderExtension.withOptions(
            MockOptions.builder().requiredApiKey(KEY).build()).named("keyed");
    @InjectMock
    private static MockProvider mock;
    @InjectMock("keyed")
    private static MockProvider keyed;
    /** Borrowed by most pools here: warm, so timing-sensitive tests do not pay for event loop start-up. */
    private static NettyTransport transport;

    @BeforeAll
    static void start() throws Exception {
        transport = new NettyTransport(2, true, Duration.ofSeconds(5));
        try (WebSocketPool warm = plain().build(); WebSocketLease ws = await5(warm.acquire())) {
            next(ws);
        }
    }

    @AfterAll
    static void stop() {
        transport.close(); // then the extensions close the mocks and check for Netty leaks
    }

    private static WebSocketPool.Builder plain() {
        return WebSocketPool.builder(mock.wsUri()).poolConfig(testPool().build()).transport(transport);
    }

    /** response.create → response.created, one delta per token, response.done; returns the reassembled text. */
    private static String runResponse(WebSocketLease ws) throws Exception {
        await5(ws.sendText("{\"type\":\"response.create\"}"));
        assertThat(type(next(ws))).isEqualTo("response.created");
        StringBuilder text = new StringBuilder();
        for (;;) {
            WebSocketMessage m = next(ws);
            if (type(m).equals("response.done")) {
                return text.toString();
            }
            assertThat(type(m)).isEqualTo("response.output_text.delta");
            text.append(delta(m));
        }
    }

    @Test
    void realtimeSessionRunsTwiceOverOneReusedConnection() throws Exception {
        long sessionsBefore = mock.stats().websocketSessions();
        try (WebSocketPool pool = plain().build()) {
            long id;
            try (WebSocketLease ws = await5(pool.acquire())) {
                assertThat(ws.freshConnection()).isTrue();
                assertThat(type(next(ws))).isEqualTo("session.created");
                assertThat(runResponse(ws)).isEqualTo(MockTokens.text(16));
                id = ws.connection().id();
            }
            try (WebSocketLease ws = await5(pool.acquire())) {
                assertThat(ws.connection().id()).as("same pooled connection").isEqualTo(id);
                assertThat(ws.freshConnection()).isFalse();
                assertThat(runResponse(ws)).isEqualTo(MockTokens.text(16));
                WebSocketConnection c = ws.connection();
                assertThat(c.messagesSent()).isEqualTo(2);
                assertThat(c.messagesReceived()).isEqualTo(1 + 2 * 18);
                assertThat(c.uri()).isEqualTo(mock.wsUri());
                assertThat(c.createdAt()).isNotNull();
            }
            assertThat(mock.stats().websocketSessions() - sessionsBefore).isEqualTo(1);
            assertThat(pool.stats().created()).isEqualTo(1);
            assertAccountingSettled(pool);
        }
    }

    @ParameterizedTest
    @EnumSource(value = TlsOptions.Provider.class, names = {"AUTO", "JDK"})
    void realtimeSessionOverTlsWithTheRequiredKey(TlsOptions.Provider provider) throws Exception {
        TlsOptions tls = TlsOptions.builder().provider(provider).trustCertificatePem(keyed.certificatePem()).build();
        try (WebSocketPool pool = WebSocketPool.builder(keyed.wssUri()).poolConfig(testPool().build()).transport(transport)
                .tls(tls).header("Authorization", "Bearer " + KEY).build();
             WebSocketLease ws = await5(pool.acquire())) {
            assertThat(type(next(ws))).isEqualTo("session.created");
            assertThat(runResponse(ws)).isEqualTo(MockTokens.text(16));
        }
    }

    /**
     * A peer that takes the TCP connection and the ClientHello and never answers: the attempt is
     * bounded once, by the handshake timeout (the pool arms no second timer), its error is a typed
     * CONNECT timeout naming the TLS stage, the socket is closed, and there was one connection.
     */
    @Test
    void aSilentTlsPeerTimesOutNamingTheStageAndItsSocketIsClosed() throws Exception {
        try (io.sluice.testkit.adversary.SilentPeer peer = io.sluice.testkit.adversary.SilentPeer.start();
             WebSocketPool pool = WebSocketPool.builder(peer.uri("wss", "/v1/realtime"))
                     .handshakeTimeout(java.time.Duration.ofMillis(300))
                     .poolConfig(testPool().maxRetries(0).build()).build()) {
            assertThatThrownBy(() -> await5(pool.acquire()))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOfSatisfying(RequestTimeoutException.class, e -> {
                        assertThat(e.phase()).isEqualTo(RequestTimeoutException.Phase.CONNECT);
                        assertThat(e.getMessage()).contains("during the TLS handshake");
                    });
            assertThat(peer.awaitClosedByClient(1, java.time.Duration.ofSeconds(10)))
                    .as("the client closed the socket of the timed-out attempt").isTrue();
            assertThat(peer.bytesReceived()).as("the peer saw a ClientHello").isPositive();
            assertThat(peer.connections()).isEqualTo(1);
            assertAccountingSettled(pool);
        }
    }

    @Test
    void untrustedServerCertificateFailsTheAcquireWithTlsFailed() {
        try (WebSocketPool pool = WebSocketPool.builder(mock.wssUri()).poolConfig(testPool().build()).build()) {
            assertThatThrownBy(() -> await5(pool.acquire()))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOfSatisfying(TlsFailedException.class,
                            e -> assertThat(e.reason()).isEqualTo(TlsFailedException.Reason.UNTRUSTED));
            assertAccountingSettled(pool);
        }
    }

    @Test
    void missingApiKeyFailsTheAcquireWith401AndNoSecretInTheMessage() {
        try (WebSocketPool pool = WebSocketPool.builder(keyed.wsUri()).poolConfig(testPool().build())
                .header("Authorization", "Bearer sk-wrong-secret").build()) {
            assertThatThrownBy(() -> await5(pool.acquire()))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOfSatisfying(ProtocolException.class, e -> {
                        assertThat(e.getCause()).isInstanceOfSatisfying(WebSocketUpgradeRejectedException.class,
                                r -> assertThat(r.status()).isEqualTo(401));
                        assertThat(e.getMessage()).contains("401").doesNotContain("sk-wrong-secret");
                        assertThat(e.retryable()).isFalse();
                    });
            assertThat(pool.toString()).doesNotContain("sk-wrong-secret").contains("<redacted>");
            assertAccountingSettled(pool);
        }
    }

    @Test
    void subprotocolTheMockDoesNotSpeakFailsTheHandshake() {
        try (WebSocketPool pool = plain().subprotocols("realtime.v9").build()) {
            assertThatThrownBy(() -> await5(pool.acquire()))
                    .cause().isInstanceOf(ProtocolException.class).hasMessageContaining("subprotocol");
        }
    }

    @Test
    void validationPingOnCheckoutAfterTheBypassWindowKeepsAHealthyConnection() throws Exception {
        try (WebSocketPool pool = plain()
                .poolConfig(testPool().validationBypassWindow(Duration.ofMillis(1)).build()).build()) {
            long id;
            try (WebSocketLease ws = await5(pool.acquire())) {
                id = ws.connection().id();
            }
            Thread.sleep(20); // idle past the 1 ms bypass window
            try (WebSocketLease ws = await5(pool.acquire())) {
                assertThat(ws.connection().id()).isEqualTo(id);
                assertThat(ws.connection().pongsReceived()).as("validated by a ping").isGreaterThanOrEqualTo(1);
                assertThat(type(next(ws))).as("the buffered session.created is still there").isEqualTo("session.created");
            }
            assertThat(pool.stats().created()).isEqualTo(1);
            assertAccountingSettled(pool);
        }
    }

    @Test
    void peerKillTakesTheConnectionOutOfThePoolAndTheNextAcquireGetsAFreshOne() throws Exception {
        MockProvider own = MockProvider.start(MockOptions.builder().build());
        try (own; WebSocketPool pool = WebSocketPool.builder(own.wsUri()).poolConfig(testPool().build()).build()) {
            long id;
            try (WebSocketLease ws = await5(pool.acquire())) {
                id = ws.connection().id();
            }
            own.killConnections();
            // it leaves the pool on the close event, not at the next checkout
            await().atMost(Duration.ofSeconds(5)).until(() -> pool.stats().open() == 0);
            assertThat(pool.stats().closedByReason().get(CloseReason.BROKEN)).isEqualTo(1);
            try (WebSocketLease ws = await5(pool.acquire())) {
                assertThat(ws.connection().id()).isNotEqualTo(id);
                assertThat(type(next(ws))).isEqualTo("session.created");
            }
            assertThat(own.stats().websocketSessions()).isEqualTo(2);
            assertAccountingSettled(pool);
        }
    }

    @Test
    void peerKillDuringAReceiveFailsItWithConnectionLost() throws Exception {
        MockProvider own = MockProvider.start(MockOptions.builder().build());
        try (own; WebSocketPool pool = WebSocketPool.builder(own.wsUri()).poolConfig(testPool().build()).build()) {
            try (WebSocketLease ws = await5(pool.acquire())) {
                assertThat(type(next(ws))).isEqualTo("session.created");
                CompletableFuture<WebSocketMessage> pending = ws.receive();
                own.killConnections();
                assertThatThrownBy(() -> await5(pending)).cause()
                        .isInstanceOf(io.sluice.http.ConnectionLostException.class);
                assertThatThrownBy(() -> await5(ws.sendText("{}"))).cause()
                        .isInstanceOf(io.sluice.http.ConnectionLostException.class);
            }
            assertAccountingSettled(pool);
            assertThat(pool.stats().open()).isZero();
        }
    }

    @Test
    void messageOverTheSizeLimitFailsWithLimitExceededAndDropsTheConnection() throws Exception {
        try (WebSocketPool pool = plain().maxMessageSize(4096).build()) {
            try (WebSocketLease ws = await5(pool.acquire())) {
                assertThat(type(next(ws))).isEqualTo("session.created");
                // the mock answers an unknown event with an error naming its type: an 8 KiB message
                await5(ws.sendText("{\"type\":\"" + "x".repeat(8192) + "\"}"));
                assertThatThrownBy(() -> await5(ws.receive())).cause()
                        .isInstanceOfSatisfying(LimitExceededException.class, e -> {
                            assertThat(e.limit()).isEqualTo(LimitExceededException.Limit.WEBSOCKET_MESSAGE);
                            assertThat(e.maxBytes()).isEqualTo(4096);
                        });
                assertThat(ws.connection().isBroken()).isTrue();
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> pool.stats().open() == 0);
            try (WebSocketLease ws = await5(pool.acquire())) {
                assertThat(ws.freshConnection()).isTrue();
            }
            assertAccountingSettled(pool);
        }
    }

    @Test
    void messagesThatArriveAfterTheLeaseEndedWaitForTheNextLease() throws Exception {
        try (WebSocketPool pool = plain().build()) {
            try (WebSocketLease ws = await5(pool.acquire())) {
                await5(ws.sendText("{\"type\":\"response.create\"}"));
                // returned at once: the whole response arrives while the connection is idle in the pool
            }
            try (WebSocketLease ws = await5(pool.acquire())) {
                assertThat(type(next(ws))).isEqualTo("session.created");
                assertThat(type(next(ws))).isEqualTo("response.created");
                StringBuilder text = new StringBuilder();
                WebSocketMessage m;
                while (!type(m = next(ws)).equals("response.done")) {
                    text.append(delta(m));
                }
                assertThat(text.toString()).isEqualTo(MockTokens.text(16));
            }
            assertAccountingSettled(pool);
        }
    }

    @Test
    void aReceiveWaitingWhenTheLeaseEndsFailsAndTheLeaseRefusesFurtherUse() throws Exception {
        try (WebSocketPool pool = plain().build()) {
            WebSocketLease ws = await5(pool.acquire());
            assertThat(type(next(ws))).isEqualTo("session.created");
            CompletableFuture<WebSocketMessage> waiting = ws.receive();
            ws.close();
            ws.close(); // harmless
            assertThatThrownBy(() -> await5(waiting)).cause().isInstanceOf(ClientClosedException.class);
            assertThatThrownBy(() -> await5(ws.sendText("{}"))).cause().isInstanceOf(ClientClosedException.class);
            assertThatThrownBy(() -> await5(ws.receive())).cause().isInstanceOf(ClientClosedException.class);
            assertAccountingSettled(pool);
        }
    }

    @Test
    void cancellingAWaitingAcquireLeavesTheQueueAndLeaksNothing() throws Exception {
        try (WebSocketPool pool = plain().poolConfig(testPool().maxConnections(1).build()).build()) {
            WebSocketLease first = await5(pool.acquire());
            CompletableFuture<WebSocketLease> second = pool.acquire();
            assertThat(second.cancel(false)).isTrue();
            assertThatThrownBy(second::join).isInstanceOf(CancellationException.class);
            await().atMost(Duration.ofSeconds(5)).until(() -> pool.stats().pending() == 0);
            first.close();
            try (WebSocketLease again = await5(pool.acquire())) {
                assertThat(again.connection().id()).isEqualTo(first.connection().id());
            }
            assertThat(pool.stats().cancelled()).isEqualTo(1);
            assertAccountingSettled(pool);
        }
    }

    @Test
    void anAcquireThatWaitsPastConnectionTimeoutFailsWithAcquireTimeout() throws Exception {
        try (WebSocketPool pool = plain()
                .poolConfig(testPool().maxConnections(1).connectionTimeout(Duration.ofMillis(500)).build()).build()) {
            try (WebSocketLease held = await5(pool.acquire())) {
                assertThatThrownBy(() -> await5(pool.acquire())).cause()
                        .isInstanceOfSatisfying(RequestTimeoutException.class,
                                e -> assertThat(e.phase()).isEqualTo(RequestTimeoutException.Phase.ACQUIRE));
                assertThat(held.isClosed()).isFalse();
            }
            assertAccountingSettled(pool);
        }
    }

    @Test
    void anAcquireTimedOutByTheCallerGivesItsConnectionBack() throws Exception {
        try (WebSocketPool pool = plain().build()) {
            // The caller's own timeout fires before any connect can finish (done by hand, as orTimeout
            // would, so a loaded machine cannot reorder it); the connection that arrives goes back to the pool.
            CompletableFuture<WebSocketLease> f = pool.acquire();
            f.completeExceptionally(new java.util.concurrent.TimeoutException("caller's deadline"));
            assertThatThrownBy(() -> await5(f)).isInstanceOf(ExecutionException.class);
            await().atMost(Duration.ofSeconds(5)).until(() -> pool.stats().connecting() == 0);
            assertThat(pool.stats().open()).isLessThanOrEqualTo(1);
            assertAccountingSettled(pool);
        }
    }

    @Test
    void invalidHeadersAndUrlsAreRefusedAtBuildTime() {
        assertThatThrownBy(() -> WebSocketPool.builder(mock.wsUri()).header("Authorization", "Bearer x\r\nInjected: 1"))
                .isInstanceOf(InvalidRequestException.class).message().doesNotContain("Bearer");
        assertThatThrownBy(() -> WebSocketPool.builder(mock.wsUri()).header("Sec-WebSocket-Protocol", "x"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("subprotocols");
        assertThatThrownBy(() -> WebSocketPool.builder(URI.create("http://localhost/v1/realtime")))
                .isInstanceOf(InvalidRequestException.class);
    }

    @Test
    void closingThePoolFailsLeasedSessionsAndLaterAcquires() throws Exception {
        WebSocketPool pool = plain().build();
        WebSocketLease ws = await5(pool.acquire());
        CompletableFuture<WebSocketMessage> first = ws.receive();
        assertThat(type(await5(first))).isEqualTo("session.created");
        CompletableFuture<WebSocketMessage> waiting = ws.receive();
        pool.close();
        assertThatThrownBy(() -> await5(waiting)).cause().isInstanceOf(ClientClosedException.class);
        assertThatThrownBy(() -> await5(pool.acquire())).cause().isInstanceOf(ClientClosedException.class);
        ws.close();
        assertThat(pool.stats().leasesOut()).isZero();
    }
}

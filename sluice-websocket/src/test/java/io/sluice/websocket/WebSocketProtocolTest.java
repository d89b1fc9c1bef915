package io.sluice.websocket;

import static io.sluice.websocket.WebSocketTestSupport.assertAccountingSettled;
import static io.sluice.websocket.WebSocketTestSupport.await5;
import static io.sluice.websocket.WebSocketTestSupport.next;
import static io.sluice.websocket.WebSocketTestSupport.testPool;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.http.ConnectionLostException;
import io.sluice.http.LimitExceededException;
import io.sluice.testkit.junit.NettyLeakCheck;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Protocol details the testkit's mock does not exercise, against {@link TestWebSocketServer}:
 * subprotocol negotiation, handshake headers, fragmentation, binary messages, a missing
 * pong, peer Close and the close handshake.
 */
@ExtendWith(NettyLeakCheck.class)
class WebSocketProtocolTest {

    private TestWebSocketServer server;

    @BeforeEach
    void start() {
        server = new TestWebSocketServer("chat.v2,realtime.v1");
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private WebSocketPool.Builder pool() {
        return WebSocketPool.builder(server.uri()).poolConfig(testPool().build());
    }

    @Test
    void negotiatesASubprotocolAndSendsTheConfiguredHeaders() throws Exception {
        try (WebSocketPool pool = pool().subprotocols("realtime.v1", "chat.v2")
                .header("Authorization", "Bearer sk-proto-secret").header("OpenAI-Beta", "realtime=v1").build();
             WebSocketLease ws = await5(pool.acquire())) {
            assertThat(ws.connection().subprotocol()).isEqualTo("realtime.v1");
            var headers = server.handshakeHeaders.get(0);
            assertThat(headers.get("Authorization")).isEqualTo("Bearer sk-proto-secret");
            assertThat(headers.get("OpenAI-Beta")).isEqualTo("realtime=v1");
            assertThat(headers.get("Sec-WebSocket-Protocol")).isEqualTo("realtime.v1,chat.v2");
            assertThat(headers).doesNotContainKey("Origin");
            assertThat(ws.toString() + pool).doesNotContain("sk-proto-secret");
        }
    }

    @Test
    void noSubprotocolWhenNoneIsOffered() throws Exception {
        try (WebSocketPool pool = pool().build(); WebSocketLease ws = await5(pool.acquire())) {
            assertThat(ws.connection().subprotocol()).isNull();
            assertThat(server.handshakeHeaders.get(0)).doesNotContainKey("Sec-WebSocket-Protocol");
        }
    }

    @Test
    void reassemblesAFragmentedMessage() throws Exception {
        try (WebSocketPool pool = pool().build(); WebSocketLease ws = await5(pool.acquire())) {
            await5(ws.sendText("fragments:4:1000"));
            WebSocketMessage m = next(ws);
            assertThat(m.isText()).isTrue();
            assertThat(m.text()).isEqualTo("a".repeat(4000));
            assertThat(ws.connection().messagesReceived()).isEqualTo(1);
        }
    }

    @Test
    void aFragmentedMessageOverTheLimitFailsWithLimitExceeded() throws Exception {
        try (WebSocketPool pool = pool().maxMessageSize(2500).build()) {
            try (WebSocketLease ws = await5(pool.acquire())) {
                await5(ws.sendText("fragments:3:1000")); // each frame fits, the message does not
                assertThatThrownBy(() -> await5(ws.receive())).cause()
                        .isInstanceOfSatisfying(LimitExceededException.class,
                                e -> assertThat(e.limit()).isEqualTo(LimitExceededException.Limit.WEBSOCKET_MESSAGE));
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> pool.stats().open() == 0);
            assertThat(server.closeCodesReceived).containsExactly(1009);
            assertAccountingSettled(pool);
        }
    }

    @Test
    void binaryMessagesRoundTrip() throws Exception {
        try (WebSocketPool pool = pool().build(); WebSocketLease ws = await5(pool.acquire())) {
            ByteBuffer data = ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5});
            await5(ws.sendBinary(data));
            assertThat(data.remaining()).as("the caller's buffer is untouched").isEqualTo(5);
            WebSocketMessage m = next(ws);
            assertThat(m.kind()).isEqualTo(WebSocketMessage.Kind.BINARY);
            assertThat(m.binary()).isEqualTo(ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5}));
            assertThat(ws.connection().messagesSent()).isEqualTo(1);
        }
    }

    @Test
    void anUnsolicitedMessageOnAnIdleConnectionIsKeptForTheNextLease() throws Exception {
        try (WebSocketPool pool = pool().build()) {
            try (WebSocketLease ws = await5(pool.acquire())) {
                await5(ws.sendText("later:50:unsolicited"));
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> pool.stats().idle() == 1
                    && pool.pool().stats().open() == 1 && bufferedOnIdle(pool) == 1);
            try (WebSocketLease ws = await5(pool.acquire())) {
                assertThat(next(ws).text()).isEqualTo("unsolicited");
            }
        }
    }

    /** Peeks at the idle connection's buffer through a lease taken only if one is free at once. */
    private int bufferedOnIdle(WebSocketPool pool) {
        CompletableFuture<WebSocketLease> f = pool.acquire();
        WebSocketLease ws = f.getNow(null);
        if (ws == null) {
            f.cancel(false); // not free at once: leave the queue rather than leak a lease
            return -1;
        }
        try (ws) {
            return ws.bufferedMessages();
        }
    }

    @Test
    void tooManyUnsolicitedMessagesOnAnIdleConnectionDropIt() throws Exception {
        try (WebSocketPool pool = pool().maxBufferedMessages(4).build()) {
            try (WebSocketLease ws = await5(pool.acquire())) {
                for (int i = 0; i < 4; i++) {
                    await5(ws.sendText("later:20:m" + i));
                }
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> pool.stats().open() == 0);
            assertAccountingSettled(pool);
        }
    }

    @Test
    void aFullBufferPausesReadingWhileLeasedAndLosesNothing() throws Exception {
        try (WebSocketPool pool = pool().maxBufferedMessages(4).build(); WebSocketLease ws = await5(pool.acquire())) {
            for (int i = 0; i < 20; i++) {
                ws.sendText("echo-" + i);
            }
            for (int i = 0; i < 20; i++) {
                assertThat(next(ws).text()).isEqualTo("echo-" + i);
            }
            assertThat(ws.connection().isBroken()).isFalse();
        }
    }

    @Test
    void aMissingPongTakesTheConnectionOutAndTheAcquireGetsAFreshOne() throws Exception {
        server.answerPings = false;
        try (WebSocketPool pool = pool().pingTimeout(Duration.ofMillis(200))
                .poolConfig(testPool().validationBypassWindow(Duration.ofMillis(100)).build()).build()) {
            long id;
            try (WebSocketLease ws = await5(pool.acquire())) {
                id = ws.connection().id();
            }
            // Idle past the bypass window: the next checkout pings. The window is wide enough that the
            // replacement, handed over right after its connect, is not validated too (the pool's clock is coarse).
            Thread.sleep(400); // well past the window even when the coarse clock lags on a loaded machine
            try (WebSocketLease ws = await5(pool.acquire())) {
                assertThat(ws.connection().id()).isNotEqualTo(id);
                assertThat(ws.freshConnection()).isTrue();
            }
            assertThat(server.pingsSeen.get()).isEqualTo(1);
            // the server counts a session once its 101 has been written; the client may read it first
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(server.sessions.get()).isEqualTo(2));
            assertAccountingSettled(pool);
        }
    }

    @Test
    void aPeerCloseFailsReceivesAfterTheBufferedMessagesAndIsEchoed() throws Exception {
        try (WebSocketPool pool = pool().build()) {
            try (WebSocketLease ws = await5(pool.acquire())) {
                await5(ws.sendText("hello"));
                await5(ws.sendText("close"));
                await().atMost(Duration.ofSeconds(5)).until(() -> ws.connection().isBroken());
                assertThat(next(ws).text()).as("received before the Close").isEqualTo("hello");
                assertThatThrownBy(() -> await5(ws.receive())).cause()
                        .isInstanceOf(ConnectionLostException.class).hasMessageContaining("1001");
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> pool.stats().open() == 0);
            assertThat(server.closeCodesReceived).containsExactly(1001);
            assertAccountingSettled(pool);
        }
    }

    @Test
    void closingThePoolRunsTheCloseHandshake() throws Exception {
        WebSocketPool pool = pool().build();
        try (WebSocketLease ws = await5(pool.acquire())) {
            await5(ws.sendText("hi"));
            assertThat(next(ws).text()).isEqualTo("hi");
        }
        pool.close();
        assertThat(server.closeCodesReceived).containsExactly(1000);
    }

    @Test
    void pingReturnsTheRoundTripOfThePeersPong() throws Exception {
        try (WebSocketPool pool = pool().build(); WebSocketLease ws = await5(pool.acquire())) {
            Duration rtt = await5(ws.ping());
            assertThat(server.pingsSeen.get()).as("a Ping frame reached the peer").isEqualTo(1);
            assertThat(rtt).isPositive().isLessThan(Duration.ofSeconds(5));
            await5(ws.sendText("still open"));
            assertThat(next(ws).text()).isEqualTo("still open");
        }
    }

    @Test
    void aPingThePeerNeverAnswersFailsAndTheConnectionIsDropped() throws Exception {
        try (WebSocketPool pool = pool().pingTimeout(Duration.ofMillis(200)).build()) {
            WebSocketLease ws = await5(pool.acquire());
            server.answerPings = false; // RFC 6455 requires a Pong; this peer is broken or gone
            assertThatThrownBy(() -> await5(ws.ping())).cause().isInstanceOf(ConnectionLostException.class)
                    .hasMessageContaining("no pong");
            ws.close();
            server.answerPings = true;
            try (WebSocketLease next = await5(pool.acquire())) {
                assertThat(next.connection()).as("the connection that missed its Pong was not reused")
                        .isNotSameAs(ws.connection());
            }
            assertAccountingSettled(pool);
        }
    }

    @Test
    void aPingOnAnEndedLeaseFailsAtOnce() throws Exception {
        try (WebSocketPool pool = pool().build()) {
            WebSocketLease ws = await5(pool.acquire());
            ws.close();
            assertThatThrownBy(() -> await5(ws.ping())).cause().isInstanceOf(io.sluice.http.ClientClosedException.class);
        }
    }

    @Test
    void aTextMessagesSizeIsItsUtf8BytesNotItsChars() throws Exception {
        String text = "h\u00e9llo \ud83d\ude42"; // "héllo " and an emoji: 8 chars, 11 bytes in UTF-8
        try (WebSocketPool pool = pool().build(); WebSocketLease ws = await5(pool.acquire())) {
            await5(ws.sendText(text));
            WebSocketMessage m = next(ws);
            assertThat(m.text()).isEqualTo(text);
            assertThat(m.size()).isEqualTo(text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).isEqualTo(11);
            assertThat(m.size()).isEqualTo(m.binary().remaining());
            assertThat(m).hasToString("WebSocketMessage[TEXT, 11 bytes]");
        }
        assertThat(WebSocketMessage.text("\ud83d").size()).as("a lone surrogate is written as '?', as the encoders do")
                .isEqualTo("\ud83d".getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
    }
}

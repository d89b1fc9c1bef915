package io.sluice.websocket;

import static io.sluice.websocket.WebSocketTestSupport.await5;
import static io.sluice.websocket.WebSocketTestSupport.next;
import static io.sluice.websocket.WebSocketTestSupport.testPool;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.http.SluiceResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A WebSocket pool on the same threads as the service's HTTP clients ({@link SluiceResources}). */
@Timeout(30)
class WebSocketSharedResourcesTest {

    @Test
    void aPoolOnSharedResourcesWorksAndLeavesThemOpenWhenItCloses() throws Exception {
        try (TestWebSocketServer server = new TestWebSocketServer(null);
             SluiceResources shared = SluiceResources.builder().ioThreads(1).build()) {
            for (int round = 0; round < 2; round++) {
                try (WebSocketPool pool = WebSocketPool.builder(server.uri()).poolConfig(testPool().build())
                        .resources(shared).build();
                     WebSocketLease ws = await5(pool.acquire())) {
                    await5(ws.sendText("hello " + round));
                    WebSocketMessage m = next(ws);
                    assertThat(m.text()).isEqualTo("hello " + round);
                    assertThat(Thread.currentThread().getName()).doesNotStartWith("sluice-http-");
                }
                assertThat(shared.isClosed()).as("closing the pool leaves the shared threads to their owner").isFalse();
            }
        }
    }

    @Test
    void closedSharedResourcesAreRefused() {
        SluiceResources shared = SluiceResources.create();
        shared.close();
        try (TestWebSocketServer server = new TestWebSocketServer(null)) {
            assertThatThrownBy(() -> WebSocketPool.builder(server.uri()).resources(shared).build())
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        }
    }
}

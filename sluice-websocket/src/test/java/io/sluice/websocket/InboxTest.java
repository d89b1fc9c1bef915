package io.sluice.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.http.ClientClosedException;
import io.sluice.http.ConnectionLostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The per-connection message buffer: order, no loss on cancel or timeout, terminal failure. */
class InboxTest {

    /** Completions queued, run when the test says: models the hop to the callback executor. */
    private final List<Runnable> queued = new ArrayList<>();
    private final Executor later = queued::add;
    private final Inbox inbox = new Inbox(later);

    private void runQueued() {
        List<Runnable> now = new ArrayList<>(queued);
        queued.clear();
        now.forEach(Runnable::run);
    }

    @Test
    void messagesThatArriveWithNobodyWaitingAreBufferedInOrder() throws Exception {
        assertThat(inbox.offer(WebSocketMessage.text("a"))).isEqualTo(1);
        assertThat(inbox.offer(WebSocketMessage.text("b"))).isEqualTo(2);
        assertThat(inbox.take().get().text()).isEqualTo("a");
        assertThat(inbox.take().get().text()).isEqualTo("b");
        assertThat(inbox.size()).isZero();
    }

    @Test
    void waitingReceivesAreServedInOrder() throws Exception {
        CompletableFuture<WebSocketMessage> first = inbox.take();
        CompletableFuture<WebSocketMessage> second = inbox.take();
        inbox.offer(WebSocketMessage.text("1"));
        inbox.offer(WebSocketMessage.text("2"));
        runQueued();
        assertThat(first.get().text()).isEqualTo("1");
        assertThat(second.get().text()).isEqualTo("2");
    }

    @Test
    void aCancelledReceiveLosesNoMessage() throws Exception {
        CompletableFuture<WebSocketMessage> cancelled = inbox.take();
        assertThat(cancelled.cancel(false)).isTrue();
        inbox.offer(WebSocketMessage.text("kept"));
        assertThat(inbox.take().get().text()).isEqualTo("kept");
    }

    @Test
    void aReceiveWithAMessageAssignedCanNoLongerBeCancelledOrTimedOut() throws Exception {
        CompletableFuture<WebSocketMessage> r = inbox.take();
        inbox.offer(WebSocketMessage.text("mine")); // assigned; completion still queued
        assertThat(r.cancel(false)).isFalse();
        assertThat(r.completeExceptionally(new RuntimeException("timeout"))).isFalse();
        runQueued();
        assertThat(r.get().text()).isEqualTo("mine");
    }

    @Test
    void orTimeoutWithdrawsAnUnassignedReceive() throws Exception {
        CompletableFuture<WebSocketMessage> r = inbox.take().orTimeout(1, TimeUnit.MILLISECONDS);
        assertThatThrownBy(() -> r.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
        inbox.offer(WebSocketMessage.text("next"));
        assertThat(inbox.take().get().text()).isEqualTo("next");
    }

    @Test
    void afterFailureBufferedMessagesComeFirstThenTheError() throws Exception {
        inbox.offer(WebSocketMessage.text("before"));
        inbox.fail(new ConnectionLostException("ws://h:1", "peer closed", null));
        assertThat(inbox.offer(WebSocketMessage.text("after"))).isEqualTo(-1);
        assertThat(inbox.take().get().text()).isEqualTo("before");
        assertThatThrownBy(() -> inbox.take().get()).cause().isInstanceOf(ConnectionLostException.class);
    }

    @Test
    void failWaitingFailsOnlyTheCurrentReceivesAndKeepsTheInboxUsable() throws Exception {
        CompletableFuture<WebSocketMessage> waiting = inbox.take();
        inbox.failWaiting(new ClientClosedException("ws://h:1", "lease ended"));
        runQueued();
        assertThatThrownBy(waiting::get).cause().isInstanceOf(ClientClosedException.class);
        inbox.offer(WebSocketMessage.text("for the next lease"));
        assertThat(inbox.take().get().text()).isEqualTo("for the next lease");
    }
}

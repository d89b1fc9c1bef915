package io.sluice.websocket;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The received messages of one connection and the {@code receive()} calls waiting for
 * them, matched in order. Messages that arrive while nobody waits (including while the
 * connection sits idle in the pool) stay here for the next {@code receive()}, so none is
 * lost between leases.
 *
 * <p>A waiting receive is a {@link Receipt}: once a message has been assigned to it (under
 * the lock) it can no longer be cancelled or timed out, so a message is never assigned to a
 * future that then refuses it. A receipt not yet assigned leaves the queue when its caller
 * cancels it or it times out ({@code orTimeout}).
 *
 * <p>After {@link #fail} the messages already buffered are still handed out (they arrived
 * before the failure); then every receive fails with the terminal error.
 *
 * <p><b>Thread-safety:</b> thread-safe; one lock guards both queues. Futures are completed
 * after the lock is released, through the completion executor, never while holding it.
 * <b>Ownership:</b> holds only heap copies ({@link WebSocketMessage}), nothing to release.
 */
final class Inbox {

    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<WebSocketMessage> messages = new ArrayDeque<>();
    private final ArrayDeque<Receipt> receivers = new ArrayDeque<>();
    private final Executor completer;
    private RuntimeException terminal;

    /** @param completer runs future completions; a user continuation must never run on an event loop */
    Inbox(Executor completer) {
        this.completer = completer;
    }

    /**
     * Hands the message to the oldest waiting receive, or buffers it.
     *
     * @return the number of messages buffered afterwards, or -1 when the inbox already failed (dropped)
     */
    int offer(WebSocketMessage m) {
        Receipt r;
        int size;
        lock.lock();
        try {
            if (terminal != null) {
                return -1;
            }
            r = receivers.poll();
            if (r == null) {
                messages.add(m);
            }
            size = messages.size();
        } finally {
            lock.unlock();
        }
        if (r != null) {
            Receipt assigned = r;
            completer.execute(() -> assigned.deliver(m));
        }
        return size;
    }

    /** The next message: already complete when one is buffered, failed when the inbox failed and is empty. */
    CompletableFuture<WebSocketMessage> take() {
        lock.lock();
        try {
            WebSocketMessage m = messages.poll();
            if (m != null) {
                return CompletableFuture.completedFuture(m);
            }
            if (terminal != null) {
                return CompletableFuture.failedFuture(terminal);
            }
            Receipt r = new Receipt();
            receivers.add(r);
            return r;
        } finally {
            lock.unlock();
        }
    }

    /** Messages buffered now. */
    int size() {
        lock.lock();
        try {
            return messages.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Fails the receives waiting now with {@code error}, without failing the inbox: used when a
     * lease ends, so its pending receives complete and the buffered messages wait for the next lease.
     */
    void failWaiting(RuntimeException error) {
        List<Receipt> failed = drainReceivers(null);
        failed.forEach(r -> completer.execute(() -> r.fail(error)));
    }

    /** Fails the inbox for good: waiting and later receives fail with {@code error} once the buffer is empty. */
    void fail(RuntimeException error) {
        List<Receipt> failed = drainReceivers(error);
        failed.forEach(r -> completer.execute(() -> r.fail(error)));
    }

    private List<Receipt> drainReceivers(RuntimeException terminalError) {
        lock.lock();
        try {
            if (terminalError != null && terminal == null) {
                terminal = terminalError;
            }
            List<Receipt> out = new ArrayList<>(receivers);
            receivers.clear();
            return out;
        } finally {
            lock.unlock();
        }
    }

    private boolean withdraw(Receipt r) {
        lock.lock();
        try {
            return receivers.remove(r);
        } finally {
            lock.unlock();
        }
    }

    /**
     * A receive that waits. Completion from outside ({@code cancel}, {@code completeExceptionally}
     * as used by {@code orTimeout}, {@code complete}) succeeds only while no message is assigned.
     */
    final class Receipt extends CompletableFuture<WebSocketMessage> {

        void deliver(WebSocketMessage m) {
            super.complete(m);
        }

        void fail(Throwable t) {
            super.completeExceptionally(t);
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            return withdraw(this) && super.cancel(mayInterruptIfRunning);
        }

        @Override
        public boolean completeExceptionally(Throwable ex) {
            return withdraw(this) && super.completeExceptionally(ex);
        }

        @Override
        public boolean complete(WebSocketMessage value) {
            return withdraw(this) && super.complete(value);
        }

        @Override
        public <U> CompletableFuture<U> newIncompleteFuture() {
            return new CompletableFuture<>(); // dependents are plain futures
        }
    }
}

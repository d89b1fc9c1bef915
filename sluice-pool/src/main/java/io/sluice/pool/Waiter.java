package io.sluice.pool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

/**
 * The future an acquire returns when it has to wait, and its place in the FIFO queue.
 *
 * <p>Its {@link #state} moves PENDING→FULFILLED (the drain loop chose it for a slot) or
 * PENDING→CANCELLED (cancel, timeout, external completion, pool closed) by one CAS, so a
 * slot is never handed to a caller that gave up: whoever loses the race gives the slot
 * back. A FULFILLED waiter whose future was completed by someone else in the meantime
 * (the caller cancelled after the choice) refuses the lease, and the pool takes it back.
 *
 * <p><b>Thread-safety:</b> all transitions are CASes on {@link #state}; {@link #timer}
 * is written once by the enqueuing thread and read by whoever ends the wait.
 */
final class Waiter<C> extends CompletableFuture<Lease<C>> {

    static final int PENDING = 0;
    static final int FULFILLED = 1;
    static final int CANCELLED = 2;

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Waiter.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final WaitQueue<C> queue;
    final long startNanos;
    private volatile int state;
    volatile ScheduledFuture<?> timer;

    Waiter(WaitQueue<C> queue, long startNanos, int initialState) {
        this.queue = queue;
        this.startNanos = startNanos;
        this.state = initialState;
    }

    boolean isPending() {
        return state == PENDING;
    }

    /** PENDING→FULFILLED: the caller gets the next slot. */
    boolean tryFulfill() {
        return STATE.compareAndSet(this, PENDING, FULFILLED);
    }

    /** PENDING→CANCELLED: the caller no longer waits. */
    boolean tryCancel() {
        return STATE.compareAndSet(this, PENDING, CANCELLED);
    }

    /** FULFILLED→PENDING: the chosen connection failed validation; the caller waits again. */
    boolean tryRequeue() {
        return STATE.compareAndSet(this, FULFILLED, PENDING);
    }

    void cancelTimer() {
        ScheduledFuture<?> t = timer;
        if (t != null) {
            t.cancel(false);
        }
    }

    /** Completes with the lease; false when the future was already completed (cancelled by its caller). */
    boolean deliver(Lease<C> lease) {
        return super.complete(lease);
    }

    /**
     * Completes exceptionally on the pool's behalf: after a successful {@link #tryCancel()}, or
     * for a FULFILLED waiter whose checkout probe ended after the pool closed.
     */
    void fail(Throwable error) {
        super.completeExceptionally(error);
    }

    /**
     * The caller (or someone on its behalf: orTimeout, a caller completing the future) ends
     * the wait. A PENDING waiter leaves the queue; a FULFILLED one (a slot was chosen, maybe
     * under validation) becomes CANCELLED too, so a failed validation cannot put it back in
     * the queue as a waiter nobody waits for; its slot is taken back when delivery fails.
     */
    private void callerGaveUp() {
        if (tryCancel()) {
            queue.gaveUp(this, false);
        } else {
            STATE.compareAndSet(this, FULFILLED, CANCELLED);
        }
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        callerGaveUp();
        return super.cancel(mayInterruptIfRunning);
    }

    @Override
    public boolean completeExceptionally(Throwable ex) {
        callerGaveUp();
        return super.completeExceptionally(ex);
    }

    @Override
    public boolean complete(Lease<C> value) {
        callerGaveUp();
        return super.complete(value);
    }
}

package io.sluice.pool;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * An in-memory {@link ConnectionManager} whose connect and validate can be completed at
 * once, held for the test to complete, or failed; connections report a settable capacity.
 * Thread-safe.
 */
class FakeConnectionManager implements ConnectionManager<FakeConnectionManager.Conn> {

    /** A fake connection. */
    static final class Conn {
        final int id;
        volatile int capacity;
        volatile boolean broken;
        final AtomicInteger closes = new AtomicInteger();
        final AtomicInteger validations = new AtomicInteger();

        Conn(int id, int capacity) {
            this.id = id;
            this.capacity = capacity;
        }

        @Override
        public String toString() {
            return "conn#" + id;
        }
    }

    final AtomicInteger connectAttempts = new AtomicInteger();
    final AtomicInteger ids = new AtomicInteger();
    final AtomicInteger openNow = new AtomicInteger();
    final AtomicInteger maxOpenSeen = new AtomicInteger();
    final List<Conn> opened = new CopyOnWriteArrayList<>();
    final ConcurrentLinkedQueue<CompletableFuture<Conn>> heldConnects = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<CompletableFuture<Void>> heldValidations = new ConcurrentLinkedQueue<>();

    volatile int capacity = 1;
    volatile boolean holdConnects;
    volatile boolean holdValidations;
    volatile boolean failValidation;
    volatile int failNextConnects;
    volatile Supplier<Throwable> connectError = () -> new java.io.IOException("connection refused (fake)");
    final AtomicBoolean failAllConnects = new AtomicBoolean();
    /** connect() answers null instead of a stage (a broken manager). */
    volatile boolean connectReturnsNull;
    /** connect() throws this (checked ones too, as Kotlin or Lombok code can) instead of answering a stage. */
    volatile Throwable connectThrows;

    /** Runs inside connect(), before it answers (a test closing the pool while the manager is being asked). */
    volatile Runnable duringConnect;

    /** What {@link #expectedCapacity()} answers (the manager's guess before any connection opened); read once, when the pool is built. */
    volatile int expectedCapacity = 1;

    @Override
    public int expectedCapacity() {
        return expectedCapacity;
    }

    /** What {@link #boundsConnect()} answers; read once, when the pool is built. */
    volatile boolean boundsConnect;

    @Override
    public boolean boundsConnect() {
        return boundsConnect;
    }

    /** The pool's channel for connection changes, handed over with every connect (the same one each time). */
    volatile ConnectionEvents<Conn> events;

    /** What a transport does when a connection's capacity or health changes: tells the pool through its events. */
    void changed(Conn c) {
        events.changed(c);
    }

    @Override
    public CompletionStage<Conn> connect(ConnectionEvents<Conn> events) {
        this.events = events;
        connectAttempts.incrementAndGet();
        Runnable during = duringConnect;
        if (during != null) {
            during.run();
        }
        if (connectReturnsNull) {
            return null;
        }
        Throwable t = connectThrows;
        if (t != null) {
            throw FakeConnectionManager.<RuntimeException>sneaky(t);
        }
        if (failAllConnects.get() || failNextConnects > 0) {
            synchronized (this) {
                if (failNextConnects > 0) {
                    failNextConnects--;
                }
            }
            return CompletableFuture.failedFuture(connectError.get());
        }
        if (holdConnects) {
            CompletableFuture<Conn> f = new CompletableFuture<>();
            heldConnects.add(f);
            return f;
        }
        return CompletableFuture.completedFuture(newConn());
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> T sneaky(Throwable t) throws T {
        throw (T) t;
    }

    Conn newConn() {
        Conn c = new Conn(ids.incrementAndGet(), capacity);
        opened.add(c);
        int n = openNow.incrementAndGet();
        maxOpenSeen.accumulateAndGet(n, Math::max);
        return c;
    }

    /** Completes the oldest held connect with a new connection; false when none is held. */
    boolean completeOneConnect() {
        CompletableFuture<Conn> f = heldConnects.poll();
        if (f == null) {
            return false;
        }
        Conn c = newConn();
        if (!f.complete(c)) {
            close(c); // the pool abandoned (cancelled) the attempt: a manager closes what it opened
        }
        return true;
    }

    boolean failOneConnect(Throwable t) {
        CompletableFuture<Conn> f = heldConnects.poll();
        if (f == null) {
            return false;
        }
        f.completeExceptionally(t);
        return true;
    }

    @Override
    public CompletionStage<Void> validate(Conn c) {
        c.validations.incrementAndGet();
        if (holdValidations) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            heldValidations.add(f);
            return f;
        }
        return failValidation ? CompletableFuture.failedFuture(new java.io.IOException("ping failed (fake)"))
                : CompletableFuture.completedFuture(null);
    }

    @Override
    public boolean hasBroken(Conn c) {
        return c.broken;
    }

    @Override
    public int capacity(Conn c) {
        return c.capacity;
    }

    @Override
    public void close(Conn c) {
        if (c.closes.incrementAndGet() == 1) {
            openNow.decrementAndGet();
        }
    }
}

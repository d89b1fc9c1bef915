package io.sluice.pool;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * A fake {@link ConnectionManager} for the stress and interleaving tests (deliberately
 * independent of the owner's {@code FakeConnectionManager}).
 *
 * <p>It counts the connections it has open right now ({@link #openNow}, +1 in connect,
 * -1 in close) and records a violation when that count exceeds {@link #limit} at
 * connect time, when a connection is closed twice, or when the pool uses a closed
 * connection for validation. Randomness comes from a seeded counter hash, so the
 * sequence of decisions is reproducible (their assignment to threads is not).
 *
 * <p>Connect and validate complete synchronously or on {@link #async} (a 2-thread pool
 * whose in-flight tasks are counted, so a test can wait for quiescence), or are left to
 * the test ({@link #manualConnects}/{@link #manualValidations}).
 *
 * <p><b>Thread-safety:</b> every method is thread-safe.
 */
final class FakeManagerForStress implements ConnectionManager<FakeManagerForStress.Conn> {

    /** One fake connection; its capacity and health are mutable by the test. */
    static final class Conn {
        final long id;
        volatile int capacity;
        volatile boolean broken;
        final AtomicInteger closes = new AtomicInteger();
        /** Highest capacity this connection ever had (leases handed out may exceed the current one after a decrease). */
        final AtomicInteger maxCapacityEver = new AtomicInteger();
        /** Leases test threads currently hold on this connection. */
        final AtomicInteger heldByTest = new AtomicInteger();

        Conn(long id, int capacity) {
            this.id = id;
            this.capacity = capacity;
            this.maxCapacityEver.set(capacity);
        }

        void setCapacity(int c) {
            maxCapacityEver.accumulateAndGet(c, Math::max); // first, so no taker sees the new capacity above it
            capacity = c;
        }

        boolean isClosed() {
            return closes.get() > 0;
        }

        @Override
        public String toString() {
            return "conn#" + id + "[cap=" + capacity + (broken ? ",broken" : "") + (isClosed() ? ",closed" : "") + "]";
        }
    }

    private final long seed;
    private final AtomicLong draws = new AtomicLong();
    private final AtomicLong ids = new AtomicLong();

    final AtomicInteger openNow = new AtomicInteger();
    final AtomicInteger peakOpen = new AtomicInteger();
    final AtomicInteger connectCalls = new AtomicInteger();
    final AtomicInteger validateCalls = new AtomicInteger();
    final ConcurrentLinkedQueue<Conn> opened = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
    /** In-flight asynchronous connect/validate completions. */
    final AtomicInteger inFlight = new AtomicInteger();

    // knobs (percentages 0..100), changeable at any time
    volatile int asyncConnectPercent = 50;
    volatile int connectFailPercent = 0;
    volatile int asyncValidatePercent = 50;
    volatile int validateFailPercent = 0;
    /** Chance that hasBroken() turns a healthy connection broken (sticky), per mille. */
    volatile int spontaneousBreakPerMille = 0;
    /** Capacity of new connections is drawn from 1..maxNewCapacity. */
    volatile int maxNewCapacity = 1;
    /** When set, connect() and validate() return futures the test completes. */
    volatile boolean manualConnects;
    volatile boolean manualValidations;
    final ConcurrentLinkedQueue<CompletableFuture<Conn>> manualConnectQueue = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<CompletableFuture<Void>> manualValidationQueue = new ConcurrentLinkedQueue<>();
    /** hasBroken() throws this many times (a manager bug the pool should survive). */
    final AtomicInteger hasBrokenThrows = new AtomicInteger();
    /** The limit on physically open connections the test considers in force; checked in connect(). */
    volatile IntSupplier limit = () -> Integer.MAX_VALUE;

    private final ExecutorService async;

    FakeManagerForStress(long seed) {
        this.seed = seed;
        AtomicInteger n = new AtomicInteger();
        ThreadFactory tf = r -> {
            Thread t = new Thread(r, "fake-manager-" + seed + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.async = Executors.newFixedThreadPool(2, tf);
    }

    /** A reproducible draw in [0, bound). */
    int draw(int bound) {
        long z = seed * 0x9E3779B97F4A7C15L + draws.incrementAndGet() * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return (int) Math.floorMod(z, (long) bound);
    }

    private void runAsync(Runnable r) {
        inFlight.incrementAndGet();
        try {
            async.execute(() -> {
                try {
                    r.run();
                } finally {
                    inFlight.decrementAndGet();
                }
            });
        } catch (RuntimeException e) {
            inFlight.decrementAndGet();
            throw e;
        }
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
        connectCalls.incrementAndGet();
        if (manualConnects) {
            CompletableFuture<Conn> f = new CompletableFuture<>();
            manualConnectQueue.add(f);
            return f;
        }
        boolean fail = draw(100) < connectFailPercent;
        if (draw(100) < asyncConnectPercent) {
            CompletableFuture<Conn> f = new CompletableFuture<>();
            runAsync(() -> {
                if (fail) {
                    f.completeExceptionally(new IllegalStateException("fake connect refused"));
                } else {
                    f.complete(open());
                }
            });
            return f;
        }
        return fail ? CompletableFuture.failedFuture(new IllegalStateException("fake connect refused"))
                : CompletableFuture.completedFuture(open());
    }

    /** Opens a connection now and checks the physical limit. */
    Conn open() {
        Conn c = new Conn(ids.incrementAndGet(), 1 + draw(Math.max(1, maxNewCapacity)));
        int n = openNow.incrementAndGet();
        peakOpen.accumulateAndGet(n, Math::max);
        int lim = limit.getAsInt();
        if (n > lim) {
            violations.add("physically open connections " + n + " > limit " + lim + " when opening " + c
                    + " (thread " + Thread.currentThread().getName() + ")");
        }
        opened.add(c);
        return c;
    }

    @Override
    public CompletionStage<Void> validate(Conn c) {
        validateCalls.incrementAndGet();
        if (c.isClosed()) {
            violations.add("validate() on a closed connection " + c);
        }
        if (manualValidations) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            manualValidationQueue.add(f);
            return f;
        }
        boolean fail = draw(100) < validateFailPercent;
        if (draw(100) < asyncValidatePercent) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            runAsync(() -> {
                if (fail) {
                    f.completeExceptionally(new IllegalStateException("fake ping failed"));
                } else {
                    f.complete(null);
                }
            });
            return f;
        }
        return fail ? CompletableFuture.failedFuture(new IllegalStateException("fake ping failed"))
                : CompletableFuture.completedFuture(null);
    }

    @Override
    public boolean hasBroken(Conn c) {
        if (hasBrokenThrows.get() > 0 && hasBrokenThrows.getAndDecrement() > 0) {
            throw new IllegalStateException("fake hasBroken() bug");
        }
        if (!c.broken && spontaneousBreakPerMille > 0 && draw(1000) < spontaneousBreakPerMille) {
            c.broken = true;
        }
        return c.broken || c.isClosed();
    }

    @Override
    public int capacity(Conn c) {
        return c.capacity;
    }

    @Override
    public void close(Conn c) {
        int n = c.closes.incrementAndGet();
        if (n > 1) {
            violations.add("connection closed " + n + " times: " + c);
            return;
        }
        openNow.decrementAndGet();
    }

    /** Connections opened and not closed yet. */
    List<Conn> openConnections() {
        List<Conn> out = new ArrayList<>();
        for (Conn c : opened) {
            if (!c.isClosed()) {
                out.add(c);
            }
        }
        return out;
    }

    /** Every connection the fake ever opened was closed exactly once. */
    List<String> notClosedExactlyOnce() {
        List<String> out = new ArrayList<>();
        for (Conn c : opened) {
            if (c.closes.get() != 1) {
                out.add(c + " closed " + c.closes.get() + " times");
            }
        }
        return out;
    }

    void shutdown() throws InterruptedException {
        async.shutdown();
        async.awaitTermination(5, TimeUnit.SECONDS);
    }
}

package io.sluice.http;

import io.netty.util.concurrent.DefaultThreadFactory;
import io.sluice.http.spi.NettyTransport;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The threads a client runs on: event loops (I/O), a timer, a small bounded pool for blocking DNS
 * look-ups, and the callback executor where response futures complete. A service that builds
 * several clients (one per SDK, per provider) shares one set with
 * {@link ConnectionPoolManager.Builder#resources(SluiceResources)}, as Reactor Netty's
 * {@code LoopResources} or OkHttp's shared dispatcher are shared, instead of paying for a set per
 * client. A client built without it creates a private set and shuts it down when it closes.
 *
 * <p>No pool here is unbounded: the event loops and the timer are fixed, DNS look-ups run on at
 * most {@link Builder#dnsThreads} threads (further look-ups queue), and the default callback
 * executor has one lane per core plus at most 256 helpers for callbacks that block.
 *
 * <p><b>Thread-safety:</b> thread-safe. <b>Ownership:</b> whoever builds it owns its threads
 * and must {@link #close()} it after every client using it has closed; a client's
 * {@link ConnectionPoolManager#close()} closes the client's pools and connections, never shared
 * resources.
 */
public final class SluiceResources implements AutoCloseable {
    final NettyTransport transport;
    final ScheduledThreadPoolExecutor scheduler;
    final ExecutorService dns;
    final Executor callbacks;
    /** The default callback executor when the builder was given none; shut down with these resources. */
    private final io.sluice.http.internal.client.CallbackExecutor ownedCallbacks;
    private final AtomicBoolean closed = new AtomicBoolean();

    private SluiceResources(Builder b) {
        this.transport = new NettyTransport(b.ioThreads, b.preferNativeTransport, Duration.ofSeconds(10));
        this.scheduler = new ScheduledThreadPoolExecutor(2, new DefaultThreadFactory("sluice-http-timer", true));
        scheduler.setRemoveOnCancelPolicy(true); // timeouts are mostly cancelled; don't let them pile up
        ThreadPoolExecutor lookups = new ThreadPoolExecutor(b.dnsThreads, b.dnsThreads, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), new DefaultThreadFactory("sluice-dns", true));
        lookups.allowCoreThreadTimeOut(true); // no threads while no look-ups run
        this.dns = lookups;
        // Own threads by default, not the common pool: on a 2-core machine its parallelism is 1, and one
        // caller blocking in a continuation elsewhere in the JVM would stall every response of this client.
        // Lanes rather than a cached pool: a cached pool pays a thread wake-up per response (see CallbackExecutor).
        this.ownedCallbacks = b.callbackExecutor == null
                ? new io.sluice.http.internal.client.CallbackExecutor(
                        Math.max(2, Runtime.getRuntime().availableProcessors()), "sluice-http-callback") : null;
        this.callbacks = b.callbackExecutor != null ? b.callbackExecutor : ownedCallbacks;
    }

    /** Resources with the defaults: event loops twice the cores, native transport where it loads, 4 DNS threads. */
    public static SluiceResources create() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Where response futures complete: the lanes, or the executor given to the builder. */
    public Executor callbackExecutor() {
        return callbacks;
    }

    /** The bounded executor blocking DNS look-ups run on. */
    public Executor dnsExecutor() {
        return dns;
    }

    /**
     * The underlying object of {@code type}, for Sluice's own modules that dial through the shared
     * event loops (the WebSocket pool): {@code io.sluice.http.spi.NettyTransport}. Throws
     * {@link IllegalArgumentException} for any other type.
     */
    public <T> T unwrap(Class<T> type) {
        if (type.isInstance(transport)) {
            return type.cast(transport);
        }
        throw new IllegalArgumentException("SluiceResources holds no " + type.getName());
    }

    /** The socket transport in use: {@code epoll}, {@code io_uring} or {@code nio}. */
    public String transportName() {
        return transport.kind().name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Whether {@link #close()} ran. */
    public boolean isClosed() {
        return closed.get();
    }

    /**
     * Shuts the threads down: event loops (waiting up to two seconds for closes in flight to
     * flush), the timer, DNS; the default callback executor still runs completions queued or
     * offered later (failures of calls the close cut), on short-lived threads. Close every client
     * using these resources first: their connections would be cut. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            transport.close();
            scheduler.shutdownNow();
        } finally {
            dns.shutdownNow();
            if (ownedCallbacks != null) {
                ownedCallbacks.shutdown();
            }
        }
    }

    @Override
    public String toString() {
        return "SluiceResources[" + transportName() + (closed.get() ? ", closed" : "") + "]";
    }

    /** Builds {@link SluiceResources}. Not thread-safe. */
    public static final class Builder {
        private int ioThreads;
        private boolean preferNativeTransport = true;
        private int dnsThreads = 4;
        private Executor callbackExecutor;

        private Builder() {
        }

        /** Event loop threads; 0 (the default) for Netty's default, twice the cores. */
        public Builder ioThreads(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("ioThreads must be >= 0, was " + n);
            }
            this.ioThreads = n;
            return this;
        }

        /** Use epoll where it loads (default true); false forces NIO. */
        public Builder preferNativeTransport(boolean on) {
            this.preferNativeTransport = on;
            return this;
        }

        /** Threads for blocking DNS look-ups, at most (default 4); more look-ups at once wait their turn. */
        public Builder dnsThreads(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("dnsThreads must be >= 1, was " + n);
            }
            this.dnsThreads = n;
            return this;
        }

        /**
         * Where response futures complete (see {@link ConnectionPoolManager.Builder#callbackExecutor});
         * the caller keeps owning it: {@link SluiceResources#close()} does not shut it down.
         */
        public Builder callbackExecutor(Executor e) {
            this.callbackExecutor = Objects.requireNonNull(e);
            return this;
        }

        public SluiceResources build() {
            return new SluiceResources(this);
        }
    }
}

package io.sluice.http.internal.transport;

import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The client's current TLS context, replaceable while connections are made: a reload builds a
 * new context (re-reading key and trust material from files) and new connections use it, while
 * open connections keep the one they were made with.
 *
 * <p>An OpenSSL context is reference counted, and each engine holds a reference of its own, so
 * open connections outlive a replaced context. A connect that read the old context just before
 * a reload still makes its engine from it, within its connect timeout; so a replaced context is
 * released only after {@code retireAfterMillis} (longer than any connect may take), not at once.
 * Connects take no reference of their own: the hot path pays nothing for reloads.
 *
 * <p><b>Thread-safety:</b> thread-safe; {@link #reload()} and {@link #close()} are serialised.
 * <b>Ownership:</b> owns every context it built: the current one until {@link #close()}, a
 * replaced one until its delayed release.
 */
public final class TlsContexts implements AutoCloseable {
    private final Supplier<SslContext> factory;
    private final ScheduledExecutorService scheduler;
    private final long retireAfterMillis;
    /** The context new connections use; replaced under this object's monitor. */
    private volatile SslContext current;
    /** Replaced contexts whose delayed release has not run yet; guarded by this object's monitor. */
    private final List<SslContext> retired = new ArrayList<>();
    /** The delayed releases of {@link #retired}, cancelled by {@link #close()}; guarded by this object's monitor. */
    private final List<java.util.concurrent.ScheduledFuture<?>> releases = new ArrayList<>();
    private boolean closed;

    /** One fixed context that is never replaced (a reload fails). */
    public static TlsContexts fixed(SslContext context) {
        return new TlsContexts(() -> context, null, 0);
    }

    /**
     * Builds the first context now; {@link IllegalArgumentException} from the factory when the
     * material cannot be read.
     *
     * @param retireAfterMillis how long a replaced context stays unreleased (longer than a connect may take)
     */
    public TlsContexts(Supplier<SslContext> factory, ScheduledExecutorService scheduler, long retireAfterMillis) {
        this.factory = factory;
        this.scheduler = scheduler;
        this.retireAfterMillis = retireAfterMillis;
        this.current = factory.get();
    }

    /** The context new connections use now. */
    public SslContext current() {
        return current;
    }

    /**
     * Builds a new context from the options (files read again) and makes it current. When it
     * cannot be built, the old one stays and the error ({@link IllegalArgumentException}) is thrown.
     */
    public synchronized void reload() {
        if (closed) {
            throw new IllegalStateException("the client is closed");
        }
        if (scheduler == null) {
            throw new IllegalStateException("this TLS context is fixed");
        }
        SslContext fresh = factory.get();
        SslContext old = current;
        current = fresh;
        retired.add(old);
        try {
            releases.add(scheduler.schedule(() -> releaseRetired(old), retireAfterMillis, TimeUnit.MILLISECONDS));
        } catch (RejectedExecutionException closing) {
            // the client is closing: close() releases it
        }
    }

    private synchronized void releaseRetired(SslContext old) {
        if (retired.remove(old)) {
            ReferenceCountUtil.release(old);
        }
    }

    /** Releases the current context and every replaced one still held. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (java.util.concurrent.ScheduledFuture<?> f : releases) {
            f.cancel(false); // a shared timer outlives this client
        }
        releases.clear();
        for (SslContext old : retired) {
            ReferenceCountUtil.release(old);
        }
        retired.clear();
        if (scheduler != null) {
            ReferenceCountUtil.release(current); // a fixed context belongs to whoever gave it
        }
    }
}

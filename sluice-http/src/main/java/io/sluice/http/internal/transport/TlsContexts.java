package io.sluice.http.internal.transport;

import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import io.sluice.http.ClientClosedException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The client's current TLS context, replaceable while connections are made: a reload builds a
 * new context (re-reading key and trust material from files) and new connections use it, while
 * open connections keep the one they were made with.
 *
 * <p>An OpenSSL context is reference counted and fails once released; each engine holds a
 * reference of its own, so open connections outlive a replaced context. A connect takes a hold
 * on the context ({@link #acquire()}) before it starts and lets go when it ends ({@link Ref#release()}):
 * a replaced context is released exactly when this object and the last connect that took it have
 * let go, however long that connect takes. (Until this change a replaced context was released
 * twice the connect timeout plus a second after the reload, on the assumption that no connect
 * takes longer between reading the context and making its engine.) A hold is taken by one CAS on
 * the context's count of holders, which never goes up again from zero: a connect that read a
 * context just as a reload replaced and released it reads the new one instead.
 *
 * <p><b>Thread-safety:</b> thread-safe; {@link #reload()} and {@link #close()} are serialised;
 * {@link #acquire()} takes no lock. <b>Ownership:</b> owns every context it built: the current one
 * until it is replaced or this is closed, each one until its last hold ends; a {@link #fixed} one
 * belongs to whoever gave it and is never released here.
 */
public final class TlsContexts implements AutoCloseable {
    private final Supplier<SslContext> factory;
    private final boolean reloadable;
    /** The context new connections use; replaced under this object's monitor. */
    private volatile Holder current;
    /** Guarded by this object's monitor. */
    private boolean closed;

    /** One fixed context that is never replaced (a reload fails) nor released here. */
    public static TlsContexts fixed(SslContext context) {
        return new TlsContexts(() -> context, false);
    }

    /**
     * Builds the first context now; {@link IllegalArgumentException} from the factory when the
     * material cannot be read.
     */
    public TlsContexts(Supplier<SslContext> factory) {
        this(factory, true);
    }

    private TlsContexts(Supplier<SslContext> factory, boolean reloadable) {
        this.factory = factory;
        this.reloadable = reloadable;
        this.current = new Holder(factory.get(), reloadable);
    }

    /**
     * The context new connections use now, without a hold: for reading its settings (ALPN, the
     * engine's kind), never for making an engine (use {@link #acquire()}).
     */
    public SslContext current() {
        return current.context;
    }

    /**
     * A hold on the current context for a connect starting now; the connect calls {@link Ref#release()}
     * once when it ends (its engine, if it made one, holds the context itself).
     *
     * @throws ClientClosedException when the client is closed
     */
    public Ref acquire() {
        for (;;) {
            Holder h = current;
            if (h.tryHold()) {
                return new Ref(h);
            }
            if (h == current) {
                // Let go by its owner while still current: only close() does that.
                throw new ClientClosedException("(client)", "the client is closed");
            }
            // replaced and released between the read and the hold: the new one is current now
        }
    }

    /**
     * Builds a new context from the options (files read again) and makes it current; the old one
     * is released when the last connect holding it ends (at once when none does). When the new one
     * cannot be built, the old one stays and the error ({@link IllegalArgumentException}) is thrown.
     *
     * @throws ClientClosedException when the client is closed (a reload racing close())
     */
    public synchronized void reload() {
        if (closed) {
            throw new ClientClosedException("(client)", "the client is closed");
        }
        if (!reloadable) {
            throw new IllegalStateException("this TLS context is fixed");
        }
        Holder fresh = new Holder(factory.get(), true);
        Holder old = current;
        current = fresh;
        old.letGo();
    }

    /** Lets go of the current context: released now, or when the last connect holding it ends. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        current.letGo();
    }

    /** A connect's hold on one context. */
    public static final class Ref {
        private final Holder holder;
        private final AtomicBoolean released = new AtomicBoolean();

        Ref(Holder holder) {
            this.holder = holder;
        }

        /** The context to make the connect's engine from; usable until {@link #release()}. */
        public SslContext context() {
            return holder.context;
        }

        /** The connect ended; a second call is ignored. */
        public void release() {
            if (released.compareAndSet(false, true)) {
                holder.letGo();
            }
        }
    }

    /** One context and its holders: this object while it is current, plus each connect that took it. */
    private static final class Holder {
        final SslContext context;
        /** Whether this object releases the context (false for a fixed one, which its giver owns). */
        final boolean owned;
        /** Holders; starts at 1 (the owner's, while current) and never rises again from 0. */
        final AtomicInteger holds = new AtomicInteger(1);

        Holder(SslContext context, boolean owned) {
            this.context = context;
            this.owned = owned;
        }

        boolean tryHold() {
            for (;;) {
                int n = holds.get();
                if (n == 0) {
                    return false;
                }
                if (holds.compareAndSet(n, n + 1)) {
                    return true;
                }
            }
        }

        void letGo() {
            if (holds.decrementAndGet() == 0 && owned) {
                ReferenceCountUtil.release(context);
            }
        }
    }
}

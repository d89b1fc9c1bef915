package io.sluice.pool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The pool's {@link Lease}: one slot of one entry.
 *
 * <p><b>Thread-safety:</b> {@link #ended} flips 0→1 once by CAS, so exactly one of
 * {@link #close()}/{@link #invalidate()} returns the slot, whichever thread calls first.
 */
final class PooledLease<C> implements Lease<C> {

    private static final VarHandle ENDED;

    static {
        try {
            ENDED = MethodHandles.lookup().findVarHandle(PooledLease.class, "ended", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Pool<C> pool;
    final PoolEntry<C> entry;
    private final C connection;
    private final boolean fresh;
    /** Set only when leak detection is on; shares the "ended" fact with the GC cleaner. */
    final LeakTracker.Record leakRecord;
    private volatile int ended;

    PooledLease(Pool<C> pool, PoolEntry<C> entry, boolean fresh, LeakTracker.Record leakRecord) {
        this.pool = pool;
        this.entry = entry;
        this.connection = entry.connection;
        this.fresh = fresh;
        this.leakRecord = leakRecord;
    }

    @Override
    public C connection() {
        return connection;
    }

    @Override
    public void close() {
        end(false);
    }

    @Override
    public void invalidate() {
        end(true);
    }

    private void end(boolean invalidate) {
        if (!ENDED.compareAndSet(this, 0, 1)) {
            pool.leaseEndedTwice(this, invalidate);
            return;
        }
        if (leakRecord != null) {
            leakRecord.end();
        }
        pool.release(entry, invalidate);
        // The leak tracker's cleaner releases the slot of a lease that became unreachable unended; this lease must
        // stay reachable until its record says it ended, or a GC in between would release the slot twice.
        java.lang.ref.Reference.reachabilityFence(this);
    }

    @Override
    public boolean isClosed() {
        return ended != 0;
    }

    @Override
    public boolean freshConnection() {
        return fresh;
    }

    @Override
    public String toString() {
        return "Lease[pool=" + pool.name() + ", " + entry + (isClosed() ? ", closed" : "") + "]";
    }
}

package io.sluice.pool;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool's calls into its {@link ConnectionManager}, each guarded the same way: a manager
 * that throws (checked exceptions included) or answers null never breaks a pool invariant.
 * {@code hasBroken} that throws counts as broken, {@code capacity} that throws as full, a
 * {@code connect}/{@code validate} that throws or answers null as a failed stage, and
 * {@code close} that throws is logged.
 *
 * <p><b>Thread-safety:</b> stateless apart from final fields; the manager must be thread-safe.
 */
final class ManagerCalls<C> {

    private static final Logger LOG = LoggerFactory.getLogger(Pool.class);

    private final String name;
    private final ConnectionManager<C> manager;

    ManagerCalls(String name, ConnectionManager<C> manager) {
        this.name = name;
        this.manager = manager;
    }

    boolean broken(C c) {
        try {
            return manager.hasBroken(c);
        } catch (RuntimeException ex) {
            LOG.warn("pool '{}': hasBroken() threw; treating the connection as broken", name, ex);
            return true;
        }
    }

    int capacity(C c) {
        try {
            return manager.capacity(c);
        } catch (RuntimeException ex) {
            LOG.warn("pool '{}': capacity() threw; treating the connection as full", name, ex);
            return 0;
        }
    }

    boolean boundsConnect() {
        try {
            return manager.boundsConnect();
        } catch (RuntimeException ex) {
            LOG.warn("pool '{}': boundsConnect() threw; the pool bounds each connect", name, ex);
            return false;
        }
    }

    int expectedCapacity() {
        return Math.max(1, manager.expectedCapacity());
    }

    void close(C c) {
        try {
            manager.close(c);
        } catch (RuntimeException ex) {
            LOG.warn("pool '{}': close() threw", name, ex);
        }
    }

    CompletionStage<C> connect(ConnectionEvents<C> events) {
        try {
            CompletionStage<C> stage = manager.connect(events);
            return stage != null ? stage : CompletableFuture.failedFuture(new IllegalStateException(
                    "ConnectionManager.connect() answered null instead of a stage"));
        } catch (Throwable ex) { // checked ones too: a manager in another JVM language may throw them undeclared
            return CompletableFuture.failedFuture(ex);
        }
    }

    CompletionStage<Void> validate(C c) {
        try {
            CompletionStage<Void> probe = manager.validate(c);
            return probe != null ? probe
                    : CompletableFuture.failedFuture(new IllegalStateException("validate() answered null"));
        } catch (Throwable ex) {
            return CompletableFuture.failedFuture(ex);
        }
    }
}

package io.sluice.spring.boot;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.Route;
import io.sluice.micrometer.SluicePoolMetrics;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one place the starter wires Sluice's Micrometer meters: each route pool of the manager goes to a
 * {@link SluicePoolMetrics} (meters {@code sluice.pool.*}, tagged {@code pool} and {@code route}), routes opened
 * later included. Boot binds every {@link MeterBinder} bean to its registries.
 *
 * <p><b>Thread-safety:</b> thread-safe. <b>Ownership:</b> reads the manager's pools, closes nothing.
 */
public final class SluiceMeterBinder implements MeterBinder {

    private final ConnectionPoolManager manager;
    private final SluicePoolMetrics metrics = new SluicePoolMetrics();
    private final Set<Route> added = ConcurrentHashMap.newKeySet();

    /** Meters for {@code manager}'s routes open now; call {@link #addRoute} for routes opened later. */
    public SluiceMeterBinder(ConnectionPoolManager manager) {
        this.manager = manager;
        manager.routes().forEach(this::addRoute);
    }

    /** Adds a route's pool (once; again is a no-op), on every registry already bound too. */
    public void addRoute(Route route) {
        if (added.add(route)) {
            metrics.add(manager.pool(route), route.toString());
        }
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        manager.routes().forEach(this::addRoute);
        metrics.bindTo(registry);
    }
}

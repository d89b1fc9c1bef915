package io.sluice.spring.boot;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.micrometer.SluiceMeters;
import org.springframework.beans.factory.ObjectProvider;

/**
 * The one place the starter wires Sluice's Micrometer meters ({@link SluiceMeters}): its {@link #customizer()}
 * gives the auto-configured manager's builder the request meters' listener (on the application's registry, so
 * every route, those opened later included, gets request histograms and pool gauges), and {@link #bindTo} binds
 * the manager's state meters to each registry Boot hands it. A manager of your own (not built by the starter)
 * gets the state meters of the routes it has when the registry binds, and no request meters unless you build it
 * with {@code new SluiceMeters(registry).instrument(builder)}.
 *
 * <p><b>Thread-safety:</b> thread-safe. <b>Ownership:</b> reads the manager; closes nothing.
 */
public final class SluiceMeterBinder implements MeterBinder {

    private final ObjectProvider<MeterRegistry> registries;
    private final ObjectProvider<ConnectionPoolManager> managers;
    /** The meters whose listener the manager's builder got, and their registry; null before the build. */
    private volatile SluiceMeters instrumented;
    private volatile MeterRegistry instrumentedRegistry;

    SluiceMeterBinder(ObjectProvider<MeterRegistry> registries, ObjectProvider<ConnectionPoolManager> managers) {
        this.registries = registries;
        this.managers = managers;
    }

    /** Adds the request meters to the auto-configured manager's builder, on the application's registry. */
    SluiceClientCustomizer customizer() {
        return builder -> {
            MeterRegistry registry = registries.getIfAvailable();
            if (registry != null) {
                SluiceMeters meters = new SluiceMeters(registry);
                meters.instrument(builder);
                instrumentedRegistry = registry;
                instrumented = meters;
            }
        };
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        ConnectionPoolManager manager = managers.getIfAvailable();
        if (manager == null) {
            return;
        }
        SluiceMeters meters = instrumented != null && instrumentedRegistry == registry ? instrumented
                : new SluiceMeters(registry);
        meters.client(manager);
    }
}

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
 * with {@code new SluiceMeters(registry).instrument(builder)}. Whatever else the starter meters (the rate limiter)
 * is bound by {@link Extra} beans on the same {@link SluiceMeters}, so its per-route meters follow the routes the
 * manager opens later.
 *
 * <p><b>Thread-safety:</b> thread-safe. <b>Ownership:</b> reads the manager; closes nothing.
 */
public final class SluiceMeterBinder implements MeterBinder {

    private final ObjectProvider<MeterRegistry> registries;
    private final ObjectProvider<ConnectionPoolManager> managers;
    private final ObjectProvider<Extra> extras;
    /** The meters whose listener the manager's builder got, and their registry; null before the build. */
    private volatile SluiceMeters instrumented;
    private volatile MeterRegistry instrumentedRegistry;

    SluiceMeterBinder(ObjectProvider<MeterRegistry> registries, ObjectProvider<ConnectionPoolManager> managers,
                      ObjectProvider<Extra> extras) {
        this.registries = registries;
        this.managers = managers;
        this.extras = extras;
    }

    /**
     * More of Sluice to meter on the registry's {@link SluiceMeters} (a bean; the starter's rate limiter is one).
     * Package-private: the starter's own parts only, each free to name types of an optional module in its body.
     */
    @FunctionalInterface
    interface Extra {
        void bindTo(SluiceMeters meters);
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
        // the meters whose listener the manager has, on their registry: it tells them of each route opened later
        SluiceMeters meters = instrumented != null && instrumentedRegistry == registry ? instrumented
                : new SluiceMeters(registry);
        ConnectionPoolManager manager = managers.getIfAvailable();
        if (manager != null) {
            meters.client(manager);
        }
        extras.orderedStream().forEach(e -> e.bindTo(meters));
    }
}

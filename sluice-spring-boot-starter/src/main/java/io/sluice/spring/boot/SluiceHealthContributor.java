package io.sluice.spring.boot;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.Route;
import io.sluice.http.RouteCounters;
import io.sluice.pool.PoolStats;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.health.contributor.HealthContributors;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * Actuator health with one member per route the manager has open (named like {@code https-api.openai.com-443}),
 * read from what the client itself knows, without sending a probe: a route that outlier detection has ejected
 * (consecutive upstream failures; requests to it fail fast until a probe request succeeds) is {@code DOWN}, every
 * other route {@code UP}. Details: pool figures (open, idle, in use, pending, limit, acquisitions, timeouts), events
 * (broken connections, replays, failures by type, ejections) and what each open connection negotiated.
 *
 * <p>Routes appear as requests first use them, so the set is read again at each health call.
 *
 * <p><b>Thread-safety:</b> thread-safe; each call reads fresh snapshots. <b>Ownership:</b> reads the manager only.
 */
public final class SluiceHealthContributor implements CompositeHealthContributor {

    private final ConnectionPoolManager manager;

    /** Health of {@code manager}'s routes. */
    public SluiceHealthContributor(ConnectionPoolManager manager) {
        this.manager = Objects.requireNonNull(manager, "manager");
    }

    /** The member name of a route: its URL form with the characters Actuator paths cannot hold replaced. */
    public static String name(Route route) {
        String h = route.host().indexOf(':') >= 0 ? route.host().replace(':', '_') : route.host();
        return route.scheme() + "-" + h + "-" + route.port();
    }

    @Override
    public HealthContributor getContributor(String name) {
        for (Route r : manager.routes()) {
            if (name(r).equals(name)) {
                return indicator(r);
            }
        }
        return null;
    }

    @Override
    public Stream<HealthContributors.Entry> stream() {
        return manager.routes().stream().sorted(java.util.Comparator.comparing(Route::toString))
                .map(r -> new HealthContributors.Entry(name(r), indicator(r)));
    }

    private HealthIndicator indicator(Route route) {
        return () -> health(route);
    }

    private Health health(Route route) {
        RouteCounters c = manager.counters(route);
        PoolStats s = manager.stats(route);
        Health.Builder h = c.ejected() ? Health.down() : Health.up();
        h.withDetail("route", route.toString());
        if (s != null) {
            Map<String, Object> pool = new LinkedHashMap<>();
            pool.put("open", s.open());
            pool.put("idle", s.idle());
            pool.put("inUse", s.inUse());
            pool.put("pending", s.pending());
            pool.put("maxConnections", s.maxConnections());
            pool.put("acquisitions", s.acquisitions());
            pool.put("timeouts", s.timeouts());
            pool.put("failedConnects", s.failedConnects());
            h.withDetail("pool", pool);
        }
        h.withDetail("ejected", c.ejected()).withDetail("ejections", c.ejections())
                .withDetail("connectionsBroken", c.connectionsBroken()).withDetail("replays", c.replays())
                .withDetail("failures", c.failures());
        h.withDetail("connections", manager.connections(route).stream().map(Object::toString).toList());
        return h.build();
    }
}

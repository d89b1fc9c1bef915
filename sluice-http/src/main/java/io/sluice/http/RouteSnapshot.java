package io.sluice.http;

import io.sluice.pool.PoolStats;
import java.util.List;

/**
 * Everything the client knows about one route at one moment, from one call
 * ({@link ConnectionPoolManager#snapshot(Route)}): its pool's statistics, its event counters and
 * what each open connection negotiated. {@link #toString()} is a short summary for a log line.
 *
 * <p><b>Thread-safety:</b> immutable; the parts were read one after another, so under load they
 * may differ by the requests that ran in between.
 *
 * @param route       the route
 * @param pool        the pool's statistics, or null when the route has no pool yet
 * @param counters    connections found broken, replays, failures handed to callers, ejections
 * @param connections what each open connection negotiated (protocol, TLS, stream limit)
 */
public record RouteSnapshot(Route route, PoolStats pool, RouteCounters counters, List<ConnectionInfo> connections) {

    public RouteSnapshot {
        connections = List.copyOf(connections);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(240).append(route).append(": ");
        if (pool == null) {
            b.append("no pool yet");
        } else {
            b.append(pool.open()).append('/').append(pool.maxConnections()).append(" open, ")
                    .append(pool.inUse()).append(" in use, ").append(pool.leasesOut()).append(" streams, ")
                    .append(pool.pending()).append(" waiting, wait p99 ")
                    .append(String.format(java.util.Locale.ROOT, "%.3f", pool.waitP99Nanos() / 1e6)).append(" ms");
        }
        long h2 = connections.stream().filter(c -> c.protocol() == Protocol.H2).count();
        if (!connections.isEmpty()) {
            b.append("; ").append(h2).append(" h2, ").append(connections.size() - h2).append(" http/1.1");
        }
        return b.append("; ").append(counters).toString();
    }
}

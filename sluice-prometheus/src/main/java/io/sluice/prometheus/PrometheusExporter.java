package io.sluice.prometheus;

import io.sluice.pool.CloseReason;
import io.sluice.pool.PoolStats;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Renders pool statistics in the Prometheus text exposition format (version 0.0.4), with
 * the standard pool metric names ({@code connection_pool_total}, {@code connection_pool_active},
 * {@code connection_pool_wait_time_seconds}) and the rest of {@link PoolStats}, each
 * sample labelled {@code pool="<name>"}.
 *
 * <p><b>Thread-safety:</b> stateless; safe to call from any thread.
 */
public final class PrometheusExporter {

    private PrometheusExporter() {
    }

    /** The exposition text for these pools' snapshots. */
    public static String format(Collection<PoolStats> pools) {
        StringBuilder out = new StringBuilder(2048);
        family(out, pools, "connection_pool_total", "counter", "Connections created", s -> s.created());
        family(out, pools, "connection_pool_active", "gauge", "Leases currently out (slots in use)", s -> s.leasesOut());
        family(out, pools, "connection_pool_open", "gauge", "Connections open (including draining)", s -> s.open());
        family(out, pools, "connection_pool_idle", "gauge", "Open connections with no lease", s -> s.idle());
        family(out, pools, "connection_pool_connecting", "gauge", "Connections being opened", s -> s.connecting());
        family(out, pools, "connection_pool_pending", "gauge", "Callers waiting for a slot", s -> s.pending());
        family(out, pools, "connection_pool_max", "gauge", "Current maxConnections", s -> s.maxConnections());
        family(out, pools, "connection_pool_acquisitions_total", "counter", "Successful acquires", s -> s.acquisitions());
        family(out, pools, "connection_pool_hits_total", "counter", "Acquires served by an open connection", s -> s.hits());
        family(out, pools, "connection_pool_misses_total", "counter", "Acquires that waited for a new connection", s -> s.misses());
        family(out, pools, "connection_pool_timeouts_total", "counter", "Acquires that timed out", s -> s.timeouts());
        family(out, pools, "connection_pool_exhausted_total", "counter", "Acquires refused: too many waiting", s -> s.exhausted());
        family(out, pools, "connection_pool_connect_failures_total", "counter", "Failed connect attempts", s -> s.failedConnects());
        family(out, pools, "connection_pool_connect_attempts_total", "counter", "Connect attempts started", s -> s.connectAttempts());
        family(out, pools, "connection_pool_connect_backoffs_total", "counter",
                "Pauses after a connect gave up (the failing upstream is not pressed)", s -> s.connectBackoffs());
        family(out, pools, "connection_pool_wait_time_seconds", "gauge", "Mean acquire wait", s -> s.waitMeanNanos() / 1e9);

        out.append("# HELP connection_pool_closed_total Connections closed, by reason\n");
        out.append("# TYPE connection_pool_closed_total counter\n");
        for (PoolStats s : pools) {
            for (Map.Entry<CloseReason, Long> r : s.closedByReason().entrySet()) {
                out.append("connection_pool_closed_total{pool=\"").append(escape(s.name())).append("\",reason=\"")
                        .append(r.getKey().name().toLowerCase(Locale.ROOT)).append("\"} ").append(r.getValue()).append('\n');
            }
        }
        out.append("# HELP connection_pool_wait_quantile_seconds Acquire wait quantiles\n");
        out.append("# TYPE connection_pool_wait_quantile_seconds gauge\n");
        for (PoolStats s : pools) {
            quantile(out, s, "0.5", s.waitP50Nanos());
            quantile(out, s, "0.99", s.waitP99Nanos());
            quantile(out, s, "1", s.waitMaxNanos());
        }
        return out.toString();
    }

    private static void family(StringBuilder out, Collection<PoolStats> pools, String metric, String type, String help,
            ToDoubleFunction<PoolStats> value) {
        out.append("# HELP ").append(metric).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(metric).append(' ').append(type).append('\n');
        for (PoolStats s : pools) {
            out.append(metric).append("{pool=\"").append(escape(s.name())).append("\"} ")
                    .append(number(value.applyAsDouble(s))).append('\n');
        }
    }

    private static void quantile(StringBuilder out, PoolStats s, String q, long nanos) {
        out.append("connection_pool_wait_quantile_seconds{pool=\"").append(escape(s.name())).append("\",quantile=\"")
                .append(q).append("\"} ").append(number(nanos / 1e9)).append('\n');
    }

    static String number(double v) {
        if (v == Math.rint(v) && !Double.isInfinite(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v);
    }

    /** Escapes a label value as the exposition format requires: backslash, double quote and newline. */
    public static String escape(String labelValue) {
        StringBuilder b = new StringBuilder(labelValue.length());
        for (int i = 0; i < labelValue.length(); i++) {
            char c = labelValue.charAt(i);
            switch (c) {
                case '\\' -> b.append("\\\\");
                case '"' -> b.append("\\\"");
                case '\n' -> b.append("\\n");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}

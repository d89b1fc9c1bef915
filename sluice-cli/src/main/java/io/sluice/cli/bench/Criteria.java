package io.sluice.cli.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns phase results into the seed's success criteria, one row each, in the seed's order. The only
 * place where targets and PASS/FAIL are decided.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
public final class Criteria {
    public static final long MEMORY_LIMIT_BYTES = 3_000_000;
    public static final double HIT_RATE_MIN = 0.95;
    public static final double ACQUIRE_P99_MAX_MS = 1.0;
    public static final int H2_STREAMS_MIN = 100;
    public static final double TLS_P50_MAX_MS = 5.0;
    public static final int LOAD_STREAMS = 10_000;

    private Criteria() {
    }

    public static List<Criterion> evaluate(Map<String, PhaseResult> phases) {
        List<Criterion> out = new ArrayList<>();
        out.add(memory(phases.get("memory")));
        PhaseResult acquire = phases.get("acquire");
        out.add(hitRate(acquire));
        out.add(acquireLatency(acquire));
        PhaseResult streams = phases.get("streams");
        out.add(h2(streams));
        out.add(tls(phases.get("tls_handshake")));
        out.add(scaling(phases.get("scaling")));
        out.add(health(phases.get("health")));
        out.add(load10k(streams));
        return out;
    }

    private static Criterion unavailable(String id, String name, String target, PhaseResult p) {
        if (p == null) {
            return new Criterion(id, name, target, "not run", false);
        }
        if (p.skipped() != null) {
            return Criterion.skipped(id, name, target, p.skipped());
        }
        Object crash = p.metrics().get("phase_error");
        return crash != null ? new Criterion(id, name, target, "phase failed: " + crash, false) : null;
    }

    static Criterion memory(PhaseResult p) {
        String id = "memory";
        String name = "Memory Usage";
        String target = "< 3 MB for 100 connections (heap + direct + native)";
        Criterion u = unavailable(id, name, target, p);
        if (u != null) {
            return u;
        }
        double total = p.number("total_bytes_per_100");
        boolean nativeMeasured = Boolean.TRUE.equals(p.metrics().get("native_measured"));
        String measured = String.format(Locale.ROOT, "%s per 100 (heap %s, direct %s, native %s)",
                Num.bytes(total), Num.bytes(p.number("heap_bytes_per_100")), Num.bytes(p.number("direct_bytes_per_100")),
                nativeMeasured ? Num.bytes(p.number("native_bytes_per_100")) : "not measured under --quick");
        return new Criterion(id, name, target, measured, total < MEMORY_LIMIT_BYTES);
    }

    static Criterion hitRate(PhaseResult p) {
        String id = "hit_rate";
        String name = "Connection Reuse";
        String target = "> 95 % pool hit rate";
        Criterion u = unavailable(id, name, target, p);
        if (u != null) {
            return u;
        }
        double rate = p.number("hit_rate");
        String measured = String.format(Locale.ROOT, "%s (%d hits, %d misses, %d requests)", Num.pct(rate),
                (long) p.number("hits"), (long) p.number("misses"), (long) p.number("requests"));
        return new Criterion(id, name, target, measured, rate > HIT_RATE_MIN && p.number("ok") > 0);
    }

    static Criterion acquireLatency(PhaseResult p) {
        String id = "acquire_latency";
        String name = "Latency (acquisition)";
        String target = "< 1 ms connection acquisition (p99)";
        Criterion u = unavailable(id, name, target, p);
        if (u != null) {
            return u;
        }
        double p99 = p.number("acquire_wait_p99_ms");
        String measured = String.format(Locale.ROOT, "p50 %s, p99 %s, max %s", Num.millis(p.number("acquire_wait_p50_ms")),
                Num.millis(p99), Num.millis(p.number("acquire_wait_max_ms")));
        return new Criterion(id, name, target, measured, p99 < ACQUIRE_P99_MAX_MS && p.number("ok") > 0);
    }

    static Criterion h2(PhaseResult p) {
        String id = "h2_streams";
        String name = "HTTP/2 Support";
        String target = "multiplexing with 100+ streams on one connection";
        Criterion u = unavailable(id, name, target, p);
        if (u != null) {
            return u;
        }
        long max = (long) p.number("max_streams_one_connection");
        String measured = String.format(Locale.ROOT, "%d streams at once on one connection (%s), %d connections",
                max, p.metrics().get("source"), (long) p.number("connections_created"));
        return new Criterion(id, name, target, measured, max >= H2_STREAMS_MIN);
    }

    static Criterion tls(PhaseResult p) {
        String id = "tls_handshake";
        String name = "TLS Performance";
        String target = "< 5 ms handshake (p50, full and resumed)";
        Criterion u = unavailable(id, name, target, p);
        if (u != null) {
            return u;
        }
        double full50 = p.number("full_p50_ms");
        double res50 = p.number("resumed_p50_ms");
        long fullN = count(p.metrics().get("full"));
        long resN = count(p.metrics().get("resumed"));
        String measured = String.format(Locale.ROOT, "full p50 %s p99 %s (n=%d); resumed p50 %s p99 %s (n=%d)",
                Num.millis(full50), Num.millis(p.number("full_p99_ms")), fullN, Num.millis(res50),
                Num.millis(p.number("resumed_p99_ms")), resN);
        return new Criterion(id, name, target, measured, fullN > 0 && resN > 0 && full50 < TLS_P50_MAX_MS
                && res50 < TLS_P50_MAX_MS);
    }

    private static long count(Object summary) {
        if (summary instanceof Map<?, ?> m && m.get("count") instanceof Number n) {
            return n.longValue();
        }
        return 0;
    }

    static Criterion scaling(PhaseResult p) {
        String id = "adaptive_scaling";
        String name = "Adaptive Scaling";
        String target = "burst grows the pool, idle shrinks it";
        Criterion u = unavailable(id, name, target, p);
        if (u != null) {
            return u;
        }
        long grows = (long) p.number("grows");
        long shrinks = (long) p.number("shrinks");
        String measured = String.format(Locale.ROOT, "%d → %d on the burst (%d grows), → %d when idle (%d shrinks);"
                        + " interval %.1f s; %d failed", (long) p.number("start_max_connections"),
                (long) p.number("max_after_burst"), grows, (long) p.number("max_after_idle"), shrinks,
                p.number("scaler_interval_s"), (long) p.number("failed"));
        boolean pass = grows > 0 && shrinks > 0 && p.number("max_after_burst") > p.number("start_max_connections")
                && p.number("max_after_idle") < p.number("max_after_burst") && p.number("failed") == 0;
        return new Criterion(id, name, target, measured, pass);
    }

    static Criterion health(PhaseResult p) {
        String id = "health_checks";
        String name = "Health Checks";
        String target = "bad connections detected and replaced, 0 failed requests";
        Criterion u = unavailable(id, name, target, p);
        if (u != null) {
            return u;
        }
        long failed = (long) p.number("failed");
        long closed = (long) p.number("connections_closed");
        long replaced = (long) p.number("connections_replaced");
        String measured = String.format(Locale.ROOT, "%d failed of %d; %d connections closed %s, %d replaced",
                failed, failed + (long) p.number("requests_ok"), closed, p.metrics().get("connections_closed_by_reason"),
                replaced);
        boolean pass = failed == 0 && closed > 0 && replaced > 0 && p.number("ok_after_last_fault") > 0;
        return new Criterion(id, name, target, measured, pass);
    }

    static Criterion load10k(PhaseResult p) {
        String id = "load_10k";
        String name = "10K concurrent";
        String target = "10 000 concurrent streaming requests, 0 errors";
        Criterion u = unavailable(id, name, target, p);
        if (u != null) {
            return u;
        }
        long streams = (long) p.number("streams");
        long failed = (long) p.number("failed");
        long overall = (long) p.number("max_streams_overall");
        String measured = String.format(Locale.ROOT, "%,d streams, %,d open at once, %d failed, %d connections,"
                        + " p99 %s to last event", streams, overall, failed, (long) p.number("connections_created"),
                Num.millis(p.number("ttle_p99_ms")));
        return new Criterion(id, name, target, measured, streams >= LOAD_STREAMS && overall >= LOAD_STREAMS
                && failed == 0);
    }
}

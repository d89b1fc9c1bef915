package io.sluice.cli.bench;

import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.Http2Settings;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.pool.PoolConfig;
import io.sluice.prometheus.PrometheusMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A short, separate sample of traffic through a client instrumented with {@code sluice-prometheus}, and a few of
 * the series its exposition carries, read back from the Prometheus registry: requests by status, the request
 * duration, time to first byte and acquire wait histograms (quantiles estimated from their classic buckets, as
 * {@code histogram_quantile} would), connections opened. Kept out of the measured phases, whose clients are not
 * instrumented, so the metrics do not change what they measure.
 *
 * <p><b>Thread-safety:</b> runs once, on the runner's thread.
 */
public final class ClientMetricsPhase implements Phase {

    static final int REQUESTS = 1000;
    static final int STREAMS = 10;
    static final int THROTTLED = 5;

    @Override
    public String id() {
        return "client_metrics";
    }

    @Override
    public PhaseResult run(BenchContext ctx) throws Exception {
        PhaseResult r = new PhaseResult(id(), "Client metrics: a few series of the Prometheus exposition");
        long start = System.nanoTime();
        PrometheusMetrics metrics = new PrometheusMetrics();
        BenchTarget target = ctx.target();
        try (ConnectionPoolManager client = metrics.instrument(target.clientBuilder(PoolConfig.defaults(),
                Http2Settings.defaults(), 0)).build()) {
            metrics.client(client);
            List<CompletableFuture<HttpResponse>> sent = new ArrayList<>();
            for (int i = 0; i < REQUESTS; i++) {
                sent.add(client.send(BenchTarget.ping(target.main())));
                if (sent.size() == 64) {
                    drain(sent, r);
                }
            }
            drain(sent, r);
            for (int i = 0; i < STREAMS; i++) {
                sent.add(client.send(BenchTarget.chat(target.main(), 8, 0)));
            }
            drain(sent, r);
            if (target.embedded()) {
                for (int i = 0; i < THROTTLED; i++) { // the mock answers what the header asks: a provider's 429
                    sent.add(client.send(HttpRequest.newBuilder(target.main().resolve("/v1/models"))
                            .header("x-mock-status", "429").GET().build()));
                }
                drain(sent, r);
            }
        }
        MetricSnapshots scrape = metrics.registry().scrape();
        for (MetricSnapshot m : scrape) {
            String name = m.getMetadata().getPrometheusName();
            if (m instanceof CounterSnapshot c && name.equals("sluice_http_client_requests")) {
                for (CounterSnapshot.CounterDataPointSnapshot p : c.getDataPoints()) {
                    String key = "sluice_http_client_requests_total{status=\"" + label(p.getLabels(), "status") + "\"}";
                    r.metric(key, (long) (r.number(key) + p.getValue()));
                }
            } else if (m instanceof CounterSnapshot c && name.equals("sluice_pool_connections_opened")) {
                r.metric("sluice_pool_connections_opened_total", (long) c.getDataPoints().stream()
                        .mapToDouble(CounterSnapshot.CounterDataPointSnapshot::getValue).sum());
            } else if (m instanceof HistogramSnapshot h && (name.equals("sluice_http_client_request_duration_seconds")
                    || name.equals("sluice_http_client_time_to_first_byte_seconds")
                    || name.equals("sluice_pool_acquire_wait_seconds"))) {
                quantiles(r, name, h);
            }
        }
        r.note("Read back from the Prometheus registry of this phase's own client (" + REQUESTS + " pings, " + STREAMS
                + " chat completions" + (target.embedded() ? ", " + THROTTLED + " answered 429 by the mock" : "")
                + "); quantiles are estimated from the histograms' classic buckets, as histogram_quantile() does, so "
                + "they are bucket bounds, not the phases' exact figures. The measured phases run without metrics.");
        r.errors(errors);
        r.durationMillis(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        return r;
    }

    private long errors;

    private void drain(List<CompletableFuture<HttpResponse>> sent, PhaseResult r) {
        for (CompletableFuture<HttpResponse> f : sent) {
            try {
                f.get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                errors++;
            }
        }
        sent.clear();
    }

    private static String label(Labels labels, String name) {
        String v = labels.get(name);
        return v == null ? "" : v;
    }

    /** count, p50 and p99 (as bucket upper bounds) of a histogram summed over its label sets. */
    private static void quantiles(PhaseResult r, String name, HistogramSnapshot h) {
        double[] bounds = null;
        long[] counts = null;
        long total = 0;
        for (HistogramSnapshot.HistogramDataPointSnapshot p : h.getDataPoints()) {
            ClassicHistogramBuckets b = p.getClassicBuckets();
            if (b.isEmpty()) {
                continue;
            }
            if (bounds == null) {
                bounds = new double[b.size()];
                counts = new long[b.size()];
                for (int i = 0; i < b.size(); i++) {
                    bounds[i] = b.getUpperBound(i);
                }
            }
            for (int i = 0; i < Math.min(b.size(), counts.length); i++) {
                counts[i] += b.getCount(i); // per-bucket counts in the model (the text format cumulates them)
                total += b.getCount(i);
            }
        }
        if (bounds == null || total == 0) {
            return;
        }
        r.metric(name + "_count", total);
        r.metric(name + " p50 (le, ms)", millis(bound(bounds, counts, total, 0.50)));
        r.metric(name + " p99 (le, ms)", millis(bound(bounds, counts, total, 0.99)));
    }

    private static double bound(double[] bounds, long[] counts, long total, double q) {
        long need = (long) Math.ceil(q * total);
        long seen = 0;
        for (int i = 0; i < bounds.length; i++) {
            seen += counts[i];
            if (seen >= need) {
                return bounds[i];
            }
        }
        return Double.POSITIVE_INFINITY;
    }

    private static String millis(double seconds) {
        return Double.isInfinite(seconds) ? "+Inf" : String.format(Locale.ROOT, "%.3f", seconds * 1000);
    }
}

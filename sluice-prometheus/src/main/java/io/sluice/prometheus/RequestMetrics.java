package io.sluice.prometheus;

import io.sluice.http.sdk.MetricLabels;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import io.sluice.http.CallListener;
import io.sluice.http.ConnectionInfo;
import io.sluice.http.ConnectionSetup;
import io.sluice.http.Headers;
import io.sluice.http.HttpRequest;
import io.sluice.http.Route;
import io.sluice.http.SluiceHttpException;
import java.time.Duration;
import java.util.Locale;

/**
 * The request-level metrics, fed by one {@link CallListener} per call: durations as histograms (classic
 * buckets for every Prometheus, native buckets for those that read them), counts as counters. Every
 * label value comes from {@link MetricLabels} or from the route, so the number of series is bounded by
 * routes × a fixed set.
 *
 * <p><b>Thread-safety:</b> the metrics are the client library's thread-safe ones; each {@link Listener}
 * belongs to one call, whose events come one at a time (see {@link CallListener}), so its plain fields
 * are safe.
 */
final class RequestMetrics implements CallListener.Factory {

    /**
     * Classic bucket bounds, in seconds: from a millisecond (a pooled acquire, a resumed handshake) to
     * five minutes (a long generation streamed token by token). Native histograms need none.
     */
    static final double[] SECONDS_BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
        30, 60, 120, 300};

    final Histogram requestDuration;
    final Histogram timeToHeaders;
    final Histogram timeToFirstByte;
    final Histogram streamDuration;
    final Histogram acquireWait;
    final Histogram standardWait;
    final Histogram dns;
    final Histogram connect;
    final Histogram tls;
    final Counter requests;
    final Counter failures;
    final Counter replays;
    final Counter statusRetries;
    final Counter requestBytes;
    final Counter responseBytes;

    RequestMetrics(PrometheusRegistry registry) {
        requestDuration = histogram(registry, "sluice_http_client_request_duration_seconds",
                "Whole calls, from start to the response's last byte (or the failure), by route, method, status and protocol",
                "route", "method", "status", "protocol");
        timeToHeaders = histogram(registry, "sluice_http_client_time_to_headers_seconds",
                "From the call's start to the head of the response the caller got", "route", "method", "protocol");
        timeToFirstByte = histogram(registry, "sluice_http_client_time_to_first_byte_seconds",
                "From the call's start to the first byte of the response body", "route", "method", "protocol");
        streamDuration = histogram(registry, "sluice_http_client_stream_duration_seconds",
                "Whole server-sent-event streams (text/event-stream responses), from the call's start to the stream's end",
                "route", "status");
        acquireWait = histogram(registry, "sluice_pool_acquire_wait_seconds",
                "Time a call's attempt waited for a connection slot", "pool");
        standardWait = histogram(registry, "connection_pool_wait_time_seconds",
                "Standard name: time a call's attempt waited for a connection slot (same data as sluice_pool_acquire_wait_seconds)",
                "pool");
        dns = histogram(registry, "sluice_connection_dns_duration_seconds",
                "Host name look-ups of new connections", "route");
        connect = histogram(registry, "sluice_connection_connect_duration_seconds",
                "TCP connects of new connections (Happy Eyeballs delays and a proxy tunnel included)", "route");
        tls = histogram(registry, "sluice_connection_tls_handshake_duration_seconds",
                "TLS handshakes of new connections, full or resumed", "route", "resumed");
        requests = Counter.builder().name("sluice_http_client_requests")
                .help("Calls ended, by route, method, status (class, or a status providers use; failed, cancelled) and protocol")
                .labelNames("route", "method", "status", "protocol").register(registry);
        failures = Counter.builder().name("sluice_http_client_failures")
                .help("Calls that failed, by the phase they were in and the kind of failure").labelNames("route", "phase", "kind")
                .register(registry);
        replays = Counter.builder().name("sluice_http_client_replays")
                .help("Attempts the transport replayed because the peer never processed them, by reason")
                .labelNames("route", "reason").register(registry);
        statusRetries = Counter.builder().name("sluice_http_client_status_retries")
                .help("Responses dropped and the request sent again, by the status that caused it").labelNames("route", "status")
                .register(registry);
        requestBytes = Counter.builder().name("sluice_http_client_request_body_bytes").unit(Unit.BYTES)
                .help("Request body bytes written (bodies of known length)").labelNames("route").register(registry);
        responseBytes = Counter.builder().name("sluice_http_client_response_body_bytes").unit(Unit.BYTES)
                .help("Response body bytes received as they came over the wire (compressed, when they were)")
                .labelNames("route").register(registry);
    }

    private static Histogram histogram(PrometheusRegistry registry, String name, String help, String... labels) {
        // Classic buckets and native buckets both: a Prometheus that scrapes protobuf with native histograms
        // enabled gets the exact-resolution one, every other gets the buckets above.
        return Histogram.builder().name(name).help(help).unit(Unit.SECONDS).labelNames(labels)
                .classicUpperBounds(SECONDS_BUCKETS).register(registry);
    }

    @Override
    public CallListener create(Route route, HttpRequest request) {
        return new Listener(route.toString(), MetricLabels.method(request.method()));
    }

    /** One call's listener: keeps what it needs until the call ends. */
    final class Listener implements CallListener {
        private final String route;
        private final String method;
        private final long startNanos = System.nanoTime(); // only for a failure's or cancel's duration
        private String protocol = MetricLabels.NO_PROTOCOL;
        private long pendingRequestBytes;
        private long headersNanos = -1;
        private boolean eventStream;

        Listener(String route, String method) {
            this.route = route;
            this.method = method;
        }

        @Override
        public void connectionSetUp(ConnectionSetup setup) {
            dns.labelValues(route).observe(setup.dnsNanos() / 1e9);
            connect.labelValues(route).observe(setup.connectNanos() / 1e9);
            if (setup.tlsNanos() > 0) {
                tls.labelValues(route, Boolean.toString(setup.tlsResumed())).observe(setup.tlsNanos() / 1e9);
            }
        }

        @Override
        public void acquireEnd(long waitNanos, ConnectionInfo connection, boolean newConnection) {
            double seconds = waitNanos / 1e9;
            acquireWait.labelValues(route).observe(seconds);
            standardWait.labelValues(route).observe(seconds);
            if (connection != null && connection.protocol() != null) {
                protocol = connection.protocol().alpnId();
            }
        }

        @Override
        public void requestSending(HttpRequest sent) {
            pendingRequestBytes = Math.max(0, sent.contentLength());
        }

        @Override
        public void requestSent() {
            // Counted once the body reached the socket: an attempt that failed half-way is not counted.
            if (pendingRequestBytes > 0) {
                requestBytes.labelValues(route).inc(pendingRequestBytes);
                pendingRequestBytes = 0;
            }
        }

        @Override
        public void responseHeaders(int status, Headers headers, long nanosSinceStart) {
            headersNanos = nanosSinceStart;
            String type = headers == null ? null : headers.get("content-type");
            eventStream = type != null && type.toLowerCase(Locale.ROOT).startsWith("text/event-stream");
        }

        @Override
        public void firstBodyByte(long nanosSinceStart) {
            timeToFirstByte.labelValues(route, method, protocol).observe(nanosSinceStart / 1e9);
        }

        @Override
        public void replay(String reason, Throwable failure) {
            replays.labelValues(route, reason == null ? "unknown" : reason).inc();
        }

        @Override
        public void statusRetry(int status, Duration delay) {
            statusRetries.labelValues(route, MetricLabels.status(status)).inc();
            headersNanos = -1; // that head was dropped; the caller's is the next one
        }

        @Override
        public void callEnd(int status, long bodyBytes, long nanosSinceStart) {
            String s = MetricLabels.status(status);
            ended(s, nanosSinceStart);
            if (bodyBytes > 0) {
                responseBytes.labelValues(route).inc(bodyBytes);
            }
            if (eventStream) {
                streamDuration.labelValues(route, s).observe(nanosSinceStart / 1e9);
            }
        }

        @Override
        public void callFailed(Phase phase, SluiceHttpException failure) {
            failures.labelValues(route, phase.name().toLowerCase(Locale.ROOT), MetricLabels.kind(failure)).inc();
            ended(MetricLabels.NO_STATUS_FAILED, System.nanoTime() - startNanos);
        }

        @Override
        public void callCancelled() {
            ended(MetricLabels.NO_STATUS_CANCELLED, System.nanoTime() - startNanos);
        }

        private void ended(String status, long nanos) {
            requests.labelValues(route, method, status, protocol).inc();
            requestDuration.labelValues(route, method, status, protocol).observe(nanos / 1e9);
            if (headersNanos >= 0) {
                timeToHeaders.labelValues(route, method, protocol).observe(headersNanos / 1e9);
            }
        }
    }
}

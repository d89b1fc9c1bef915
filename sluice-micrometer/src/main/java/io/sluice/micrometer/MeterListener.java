package io.sluice.micrometer;

import io.sluice.http.sdk.MetricLabels;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sluice.http.CallListener;
import io.sluice.http.ConnectionInfo;
import io.sluice.http.ConnectionSetup;
import io.sluice.http.Headers;
import io.sluice.http.HttpRequest;
import io.sluice.http.Route;
import io.sluice.http.SluiceHttpException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The request-level meters, fed by one listener per call: the same figures and names as
 * {@code io.sluice.prometheus.RequestMetrics}, as Micrometer timers (with fixed service-level buckets, so
 * Micrometer's Prometheus registry renders them as histograms with {@code _bucket} series) and counters.
 *
 * <p><b>Thread-safety:</b> Micrometer's meters are thread-safe and {@code builder.register} returns the
 * existing meter for a name and tags; each {@link Listener} belongs to one call, whose events come one at
 * a time, so its plain fields are safe.
 */
final class MeterListener implements CallListener.Factory {

    /** Classic bucket bounds: a millisecond (a pooled acquire) to five minutes (a long streamed generation). */
    static final Duration[] BUCKETS = {Duration.ofMillis(1), Duration.ofNanos(2_500_000), Duration.ofMillis(5),
        Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
        Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500),
        Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60),
        Duration.ofSeconds(120), Duration.ofSeconds(300)};

    private final MeterRegistry registry;
    /** Told of each route a call starts on, so the binder can register the route's pool meters. */
    private final Consumer<Route> routeSeen;

    MeterListener(MeterRegistry registry, Consumer<Route> routeSeen) {
        this.registry = registry;
        this.routeSeen = routeSeen;
    }

    private void time(String name, String help, long nanos, String... tags) {
        Timer.builder(name).description(help).tags(tags).serviceLevelObjectives(BUCKETS).register(registry)
                .record(Math.max(0, nanos), TimeUnit.NANOSECONDS);
    }

    private void count(String name, String help, String unit, double amount, String... tags) {
        Counter.builder(name).description(help).baseUnit(unit).tags(tags).register(registry).increment(amount);
    }

    @Override
    public CallListener create(Route route, HttpRequest request) {
        routeSeen.accept(route);
        return new Listener(route.toString(), MetricLabels.method(request.method()));
    }

    /** One call's listener. */
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
            time("sluice.connection.dns.duration", "Host name look-ups of new connections", setup.dnsNanos(), "route", route);
            time("sluice.connection.connect.duration", "TCP connects of new connections", setup.connectNanos(),
                    "route", route);
            if (setup.tlsNanos() > 0) {
                time("sluice.connection.tls.handshake.duration", "TLS handshakes of new connections", setup.tlsNanos(),
                        "route", route, "resumed", Boolean.toString(setup.tlsResumed()));
            }
        }

        @Override
        public void acquireEnd(long waitNanos, ConnectionInfo connection, boolean newConnection) {
            time("sluice.pool.acquire.wait", "Time a call's attempt waited for a connection slot", waitNanos, "pool", route);
            time("connection.pool.wait.time", "Standard name: time a call's attempt waited for a connection slot",
                    waitNanos, "pool", route);
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
            if (pendingRequestBytes > 0) {
                count("sluice.http.client.request.body", "Request body bytes written", "bytes", pendingRequestBytes,
                        "route", route);
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
            time("sluice.http.client.time.to.first.byte", "From the call's start to the first byte of the response body",
                    nanosSinceStart, "route", route, "method", method, "protocol", protocol);
        }

        @Override
        public void replay(String reason, Throwable failure) {
            count("sluice.http.client.replays", "Attempts replayed because the peer never processed them", null, 1,
                    "route", route, "reason", reason == null ? "unknown" : reason);
        }

        @Override
        public void statusRetry(int status, Duration delay) {
            count("sluice.http.client.status.retries", "Responses dropped and the request sent again", null, 1,
                    "route", route, "status", MetricLabels.status(status));
            headersNanos = -1; // that head was dropped; the caller's is the next one
        }

        @Override
        public void callEnd(int status, long bodyBytes, long nanosSinceStart) {
            String s = MetricLabels.status(status);
            ended(s, nanosSinceStart);
            if (bodyBytes > 0) {
                count("sluice.http.client.response.body", "Response body bytes as they came over the wire", "bytes",
                        bodyBytes, "route", route);
            }
            if (eventStream) {
                time("sluice.http.client.stream.duration", "Whole server-sent-event streams", nanosSinceStart,
                        "route", route, "status", s);
            }
        }

        @Override
        public void callFailed(Phase phase, SluiceHttpException failure) {
            count("sluice.http.client.failures", "Calls that failed, by phase and kind", null, 1, "route", route,
                    "phase", phase.name().toLowerCase(Locale.ROOT), "kind", MetricLabels.kind(failure));
            ended(MetricLabels.NO_STATUS_FAILED, System.nanoTime() - startNanos);
        }

        @Override
        public void callCancelled() {
            ended(MetricLabels.NO_STATUS_CANCELLED, System.nanoTime() - startNanos);
        }

        private void ended(String status, long nanos) {
            count("sluice.http.client.requests", "Calls ended, by route, method, status and protocol", null, 1,
                    "route", route, "method", method, "status", status, "protocol", protocol);
            time("sluice.http.client.request.duration", "Whole calls, from start to the response's last byte or the failure",
                    nanos, "route", route, "method", method, "status", status, "protocol", protocol);
            if (headersNanos >= 0) {
                time("sluice.http.client.time.to.headers", "From the call's start to the head of the response the caller got",
                        headersNanos, "route", route, "method", method, "protocol", protocol);
            }
        }
    }
}

package io.sluice.tracing.otel;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.TracerProvider;
import io.sluice.http.CallListener;
import io.sluice.http.ConnectionPoolManager;
import java.util.Objects;

/**
 * Traces each request of a Sluice client as an OpenTelemetry span of kind CLIENT, following the HTTP
 * client semantic conventions ({@code http.request.method}, {@code server.address}, {@code server.port},
 * {@code url.full} with secrets redacted, {@code http.response.status_code},
 * {@code network.protocol.version}, {@code error.type}, {@code http.request.resend_count}), and sends the
 * span's context to the provider with every attempt through the configured propagators (W3C
 * {@code traceparent}/{@code tracestate} by default).
 *
 * <pre>{@code
 * ConnectionPoolManager client = SluiceOpenTelemetry.instrument(ConnectionPoolManager.builder(), openTelemetry)
 *         .build();
 * }</pre>
 *
 * <p>The span's parent is the context current on the thread that calls {@code send()}/{@code stream()}.
 * It starts when the call starts and ends when the response body ended, failed, or was closed, so a
 * streamed answer is timed to its last byte. Span events: {@code sluice.acquire} (wait, whether the
 * connection was new), {@code sluice.connection_setup} (DNS, connect, TLS, resumed), {@code sluice.first_byte},
 * {@code sluice.replay} (reason) and {@code sluice.status_retry} (status, delay). A call the caller cancels
 * ends with {@code sluice.cancelled = true} and no error.
 *
 * <p>With {@link OpenTelemetry#noop()} (or a no-op tracer provider) the factory makes no listener at all:
 * the client runs as if untraced, at no cost.
 *
 * <p><b>Thread-safety:</b> thread-safe. <b>Ownership:</b> uses the {@link OpenTelemetry} given; closes nothing.
 */
public final class SluiceOpenTelemetry {

    /** The instrumentation scope name of Sluice's spans. */
    public static final String SCOPE = "io.sluice.http";

    private SluiceOpenTelemetry() {
    }

    /** A call listener factory that traces every call; add it with {@link ConnectionPoolManager.Builder#callListener}. */
    public static CallListener.Factory tracing(OpenTelemetry openTelemetry) {
        Objects.requireNonNull(openTelemetry, "openTelemetry");
        if (openTelemetry.getTracerProvider() == TracerProvider.noop()) {
            return (route, request) -> CallListener.NONE; // nothing to record, nothing to propagate
        }
        Tracer tracer = openTelemetry.getTracer(SCOPE);
        return (route, request) -> new SpanCallListener(tracer, openTelemetry.getPropagators().getTextMapPropagator(),
                route);
    }

    /** Adds {@link #tracing} to {@code builder}; returns the builder. */
    public static ConnectionPoolManager.Builder instrument(ConnectionPoolManager.Builder builder,
                                                           OpenTelemetry openTelemetry) {
        return builder.callListener(tracing(openTelemetry));
    }
}

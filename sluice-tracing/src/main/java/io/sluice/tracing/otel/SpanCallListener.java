package io.sluice.tracing.otel;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.sluice.http.CallListener;
import io.sluice.http.ConnectionInfo;
import io.sluice.http.ConnectionSetup;
import io.sluice.http.Headers;
import io.sluice.http.HttpRequest;
import io.sluice.http.Route;
import io.sluice.http.SluiceHttpException;
import io.sluice.tracing.HttpAttributes;
import java.time.Duration;

/**
 * One call's span. The events of a call come one at a time, each happening-before the next
 * ({@link CallListener}), so the plain fields need no lock.
 */
final class SpanCallListener implements CallListener {

    static final AttributeKey<String> METHOD = AttributeKey.stringKey("http.request.method");
    static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
    static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
    static final AttributeKey<String> URL_FULL = AttributeKey.stringKey("url.full");
    static final AttributeKey<Long> STATUS = AttributeKey.longKey("http.response.status_code");
    static final AttributeKey<String> PROTOCOL_VERSION = AttributeKey.stringKey("network.protocol.version");
    static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
    static final AttributeKey<Long> RESEND_COUNT = AttributeKey.longKey("http.request.resend_count");
    static final AttributeKey<Boolean> CANCELLED = AttributeKey.booleanKey("sluice.cancelled");

    /** Sets propagated fields as request headers. */
    private static final TextMapSetter<HttpRequest.Builder> HEADERS = (carrier, key, value) -> {
        if (carrier != null) {
            carrier.setHeader(key, value);
        }
    };

    private final Tracer tracer;
    private final TextMapPropagator propagator;
    private final Route route;
    private Span span;
    private Context context;
    private int attempts;

    SpanCallListener(Tracer tracer, TextMapPropagator propagator, Route route) {
        this.tracer = tracer;
        this.propagator = propagator;
        this.route = route;
    }

    @Override
    public void callStart(HttpRequest r) {
        String method = HttpAttributes.method(r);
        Context parent = Context.current(); // the caller's thread: send() and stream() start the call there
        span = tracer.spanBuilder(method).setParent(parent).setSpanKind(SpanKind.CLIENT)
                .setAttribute(METHOD, method)
                .setAttribute(SERVER_ADDRESS, HttpAttributes.serverAddress(route))
                .setAttribute(SERVER_PORT, (long) HttpAttributes.serverPort(route))
                .setAttribute(URL_FULL, HttpAttributes.urlFull(r))
                .startSpan();
        context = parent.with(span);
    }

    @Override
    public void acquireStart(int attempt) {
        attempts = attempt;
    }

    @Override
    public void connectionSetUp(ConnectionSetup s) {
        span.addEvent("sluice.connection_setup", Attributes.builder()
                .put("sluice.dns_ns", s.dnsNanos()).put("sluice.connect_ns", s.connectNanos())
                .put("sluice.tls_ns", s.tlsNanos()).put("sluice.tls_resumed", s.tlsResumed())
                .put("sluice.addresses_tried", s.addressesTried()).put("network.peer.address", s.remoteAddress())
                .build());
    }

    @Override
    public void acquireEnd(long waitNanos, ConnectionInfo connection, boolean newConnection) {
        span.addEvent("sluice.acquire", Attributes.builder().put("sluice.wait_ns", waitNanos)
                .put("sluice.new_connection", newConnection).build());
        span.setAttribute(PROTOCOL_VERSION, HttpAttributes.protocolVersion(connection.protocol()));
    }

    @Override
    public HttpRequest propagate(HttpRequest attempt) {
        HttpRequest.Builder b = attempt.toBuilder();
        propagator.inject(context, b, HEADERS);
        return b.build();
    }

    @Override
    public void responseHeaders(int status, Headers headers, long nanosSinceStart) {
        span.setAttribute(STATUS, (long) status);
    }

    @Override
    public void firstBodyByte(long nanosSinceStart) {
        span.addEvent("sluice.first_byte");
    }

    @Override
    public void replay(String reason, Throwable failure) {
        span.addEvent("sluice.replay", Attributes.builder().put("sluice.reason", reason)
                .put("exception.type", failure.getClass().getName()).build());
    }

    @Override
    public void statusRetry(int status, Duration delay) {
        span.addEvent("sluice.status_retry", Attributes.builder().put("http.response.status_code", (long) status)
                .put("sluice.delay_ms", delay.toMillis()).build());
    }

    @Override
    public void callEnd(int status, long bodyBytes, long nanosSinceStart) {
        span.setAttribute(STATUS, (long) status);
        String error = HttpAttributes.errorType(status);
        if (error != null) {
            span.setAttribute(ERROR_TYPE, error);
            span.setStatus(StatusCode.ERROR);
        }
        end();
    }

    @Override
    public void callFailed(Phase phase, SluiceHttpException failure) {
        span.setAttribute(ERROR_TYPE, HttpAttributes.errorType(failure));
        span.setAttribute("sluice.phase", phase.name());
        span.recordException(failure);
        span.setStatus(StatusCode.ERROR, failure.getClass().getSimpleName());
        end();
    }

    @Override
    public void callCancelled() {
        span.setAttribute(CANCELLED, true);
        end();
    }

    private void end() {
        if (attempts > 1) {
            span.setAttribute(RESEND_COUNT, (long) (attempts - 1));
        }
        span.end();
    }
}

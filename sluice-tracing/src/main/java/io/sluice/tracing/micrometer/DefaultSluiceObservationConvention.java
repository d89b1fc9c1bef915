package io.sluice.tracing.micrometer;

import io.micrometer.common.KeyValue;
import io.micrometer.common.KeyValues;
import io.sluice.tracing.HttpAttributes;

/**
 * The default names and tags: the observation {@value #NAME} (a timer of that name with a meter handler;
 * distinct from Spring's {@code http.client.requests}, which an application may record for the same call
 * one layer up, and from sluice-micrometer's own {@code sluice.http.client.requests} counter), named {@code METHOD} in traces, with the HTTP client semantic conventions as keys. Every
 * low-cardinality key is always present (with {@code UNKNOWN} or {@code none}), as a Prometheus registry
 * requires; {@code url.full} (redacted) is high-cardinality: on spans only.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
public class DefaultSluiceObservationConvention implements SluiceObservationConvention {

    public static final String NAME = "sluice.http.client.calls";

    @Override
    public String getName() {
        return NAME;
    }

    @Override
    public String getContextualName(SluiceRequestContext context) {
        return HttpAttributes.method(context.request());
    }

    @Override
    public KeyValues getLowCardinalityKeyValues(SluiceRequestContext c) {
        Integer status = c.getResponse();
        String error = c.getError() != null ? c.getError().getClass().getName()
                : status != null && HttpAttributes.errorType(status) != null ? HttpAttributes.errorType(status) : "none";
        return KeyValues.of(
                KeyValue.of("http.request.method", HttpAttributes.method(c.request())),
                KeyValue.of("server.address", HttpAttributes.serverAddress(c.route())),
                KeyValue.of("server.port", Integer.toString(HttpAttributes.serverPort(c.route()))),
                KeyValue.of("http.response.status_code", status == null ? "UNKNOWN" : status.toString()),
                KeyValue.of("network.protocol.version",
                        c.protocol() == null ? "UNKNOWN" : HttpAttributes.protocolVersion(c.protocol())),
                KeyValue.of("error.type", c.cancelled() ? "cancelled" : error),
                KeyValue.of("outcome", outcome(c, status)));
    }

    @Override
    public KeyValues getHighCardinalityKeyValues(SluiceRequestContext c) {
        return KeyValues.of(KeyValue.of("url.full", HttpAttributes.urlFull(c.request())),
                KeyValue.of("http.request.resend_count", Integer.toString(c.resends())));
    }

    private static String outcome(SluiceRequestContext c, Integer status) {
        if (c.cancelled()) {
            return "CANCELLED";
        }
        if (status == null || c.getError() != null) {
            return "UNKNOWN";
        }
        return status < 200 ? "INFORMATIONAL" : status < 300 ? "SUCCESS" : status < 400 ? "REDIRECTION"
                : status < 500 ? "CLIENT_ERROR" : "SERVER_ERROR";
    }
}

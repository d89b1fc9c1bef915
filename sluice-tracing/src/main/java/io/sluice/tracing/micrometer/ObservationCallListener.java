package io.sluice.tracing.micrometer;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.sluice.http.CallListener;
import io.sluice.http.ConnectionInfo;
import io.sluice.http.ConnectionSetup;
import io.sluice.http.Headers;
import io.sluice.http.HttpRequest;
import io.sluice.http.Route;
import io.sluice.http.SluiceHttpException;
import java.time.Duration;
import java.util.Map;

/**
 * One call's observation. The events of a call come one at a time, each happening-before the next
 * ({@link CallListener}), so the plain fields need no lock.
 */
final class ObservationCallListener implements CallListener {

    private static final Observation.Event FIRST_BYTE = Observation.Event.of("sluice.first_byte");
    private static final Observation.Event CONNECTION_SETUP = Observation.Event.of("sluice.connection_setup");

    private final ObservationRegistry registry;
    private final SluiceObservationConvention convention;
    private final SluiceObservationConvention defaults;
    private final SluiceRequestContext context;
    private Observation observation;
    private int attempts;

    ObservationCallListener(ObservationRegistry registry, SluiceObservationConvention convention,
                            SluiceObservationConvention defaults, Route route, HttpRequest request) {
        this.registry = registry;
        this.convention = convention;
        this.defaults = defaults;
        this.context = new SluiceRequestContext(route, request);
    }

    @Override
    public void callStart(HttpRequest request) {
        // On the caller's thread: the current observation there is the parent. Starting injects the
        // propagated fields (traceparent...) into the context's carrier.
        observation = Observation.createNotStarted(convention, defaults, () -> context, registry).start();
    }

    @Override
    public void acquireStart(int attempt) {
        attempts = attempt;
    }

    @Override
    public void connectionSetUp(ConnectionSetup setup) {
        observation.event(CONNECTION_SETUP);
    }

    @Override
    public void acquireEnd(long waitNanos, ConnectionInfo connection, boolean newConnection) {
        context.protocol(connection.protocol());
    }

    @Override
    public HttpRequest propagate(HttpRequest attempt) {
        Map<String, String> fields = context.getCarrier();
        if (fields == null || fields.isEmpty()) {
            return attempt;
        }
        HttpRequest.Builder b = attempt.toBuilder();
        fields.forEach(b::setHeader);
        return b.build();
    }

    @Override
    public void responseHeaders(int status, Headers headers, long nanosSinceStart) {
        context.setResponse(status);
    }

    @Override
    public void firstBodyByte(long nanosSinceStart) {
        observation.event(FIRST_BYTE);
    }

    @Override
    public void replay(String reason, Throwable failure) {
        observation.event(Observation.Event.of("sluice.replay", "sluice.replay " + reason));
    }

    @Override
    public void statusRetry(int status, Duration delay) {
        observation.event(Observation.Event.of("sluice.status_retry", "sluice.status_retry " + status));
    }

    @Override
    public void callEnd(int status, long bodyBytes, long nanosSinceStart) {
        context.setResponse(status);
        stop();
    }

    @Override
    public void callFailed(Phase phase, SluiceHttpException failure) {
        context.failedIn(phase);
        observation.error(failure);
        stop();
    }

    @Override
    public void callCancelled() {
        context.cancelled(true);
        stop();
    }

    private void stop() {
        context.resends(Math.max(0, attempts - 1));
        observation.stop();
    }
}

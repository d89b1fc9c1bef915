package io.sluice.tracing.micrometer;

import io.micrometer.observation.ObservationRegistry;
import io.sluice.http.CallListener;
import io.sluice.http.ConnectionPoolManager;
import java.util.Objects;

/**
 * Observes each request of a Sluice client with the Micrometer Observation API (what Spring uses): a
 * timer and, with a tracing bridge (Micrometer Tracing over OpenTelemetry or Brave), a CLIENT span whose
 * context is sent to the provider with every attempt ({@code traceparent} with the W3C propagator).
 *
 * <pre>{@code
 * ConnectionPoolManager client = SluiceObservations.instrument(ConnectionPoolManager.builder(), registry).build();
 * }</pre>
 *
 * <p>The observation starts when the call starts, in the scope of the caller's current observation (its
 * parent), and stops when the response body ended, failed or was closed. Events: {@code sluice.replay},
 * {@code sluice.status_retry}, {@code sluice.first_byte}, {@code sluice.connection_setup}. Names and keys
 * come from {@link DefaultSluiceObservationConvention} unless a {@link SluiceObservationConvention} is given
 * (a convention registered on the registry for {@link SluiceRequestContext} wins over both).
 *
 * <p>With {@link ObservationRegistry#NOOP} (or a registry without handlers) the factory makes no listener:
 * the client runs as if unobserved, at no cost.
 *
 * <p><b>Thread-safety:</b> thread-safe. <b>Ownership:</b> uses the registry given; closes nothing.
 */
public final class SluiceObservations {

    private SluiceObservations() {
    }

    /** A call listener factory that observes every call with the default convention. */
    public static CallListener.Factory observing(ObservationRegistry registry) {
        return observing(registry, null);
    }

    /** A call listener factory that observes every call; {@code convention} null for the default. */
    public static CallListener.Factory observing(ObservationRegistry registry, SluiceObservationConvention convention) {
        Objects.requireNonNull(registry, "registry");
        if (registry.isNoop()) {
            return (route, request) -> CallListener.NONE; // nobody observes: no listener, no cost
        }
        SluiceObservationConvention defaults = new DefaultSluiceObservationConvention();
        return (route, request) -> registry.isNoop() ? CallListener.NONE
                : new ObservationCallListener(registry, convention, defaults, route, request);
    }

    /** Adds {@link #observing(ObservationRegistry)} to {@code builder}; returns the builder. */
    public static ConnectionPoolManager.Builder instrument(ConnectionPoolManager.Builder builder,
                                                           ObservationRegistry registry) {
        return builder.callListener(observing(registry));
    }
}

package io.sluice.tracing.micrometer;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;

/**
 * Names and tags the observation of a Sluice request; implement it (or extend
 * {@link DefaultSluiceObservationConvention}) to change them.
 *
 * <p><b>Thread-safety:</b> implementations must be thread-safe.
 */
public interface SluiceObservationConvention extends ObservationConvention<SluiceRequestContext> {

    @Override
    default boolean supportsContext(Observation.Context context) {
        return context instanceof SluiceRequestContext;
    }
}

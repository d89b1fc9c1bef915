package io.sluice.pool.health;

import java.util.concurrent.CompletionStage;

/**
 * One health probe against a pool's upstream, e.g. {@code HEAD /generate_204} expecting
 * 2xx. The stage completes normally when the probe succeeded and exceptionally when it
 * failed; the monitor bounds it with its probe timeout.
 *
 * <p><b>Thread-safety:</b> implementations must be thread-safe; probes of different
 * pools run concurrently.
 */
@FunctionalInterface
public interface HealthProbe {
    CompletionStage<?> probe();
}

package io.sluice.cli.soak;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * What a soak run does. Immutable.
 *
 * @param duration    how long the load runs (faults included); draining and checks come after
 * @param faults      the faults to inject at random; empty for a clean run
 * @param concurrency workers issuing requests back to back
 */
public record SoakOptions(Duration duration, Set<Fault> faults, int concurrency) {
    public SoakOptions {
        Objects.requireNonNull(duration, "duration");
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException("--duration must be more than zero, got " + duration);
        }
        if (concurrency < 1) {
            throw new IllegalArgumentException("--concurrency must be at least 1, got " + concurrency);
        }
        faults = faults.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(faults));
    }
}

package io.sluice.pool.health;

import java.time.Duration;
import java.time.Instant;

/**
 * A pool's health after a round of probes.
 *
 * <p><b>Thread-safety:</b> immutable.
 *
 * @param healthy             more than half of the round's probes succeeded
 * @param lastCheck           when the round ended (null before the first)
 * @param consecutiveFailures failed probes in a row, counted across rounds (reset by a success)
 * @param averageLatency      mean latency of the round's successful probes
 * @param successRate         successes ÷ probes in the round, 0..1
 * @param rounds              rounds completed so far
 */
public record HealthStatus(boolean healthy, Instant lastCheck, int consecutiveFailures, Duration averageLatency,
        double successRate, long rounds) {

    /** Before any round: presumed healthy, so traffic is not refused before data exists. */
    public static HealthStatus unknown() {
        return new HealthStatus(true, null, 0, Duration.ZERO, 1.0, 0);
    }
}

package io.sluice.cli.bench;

import java.util.List;

/**
 * One row of the result table: a success criterion, what was measured, and whether it met the target.
 * {@code pass} is null when the criterion could not be measured in this run (e.g. it needs the embedded
 * mock); that counts as not passed. A failed criterion lists the conditions it did not meet.
 *
 * <p><b>Thread-safety:</b> immutable.
 *
 * @param id       stable id for JSON ({@code memory}, {@code hit_rate}, ...)
 * @param name     the criterion's name (Memory Usage, Connection Reuse, ...)
 * @param target   the target as text
 * @param measured the measurement as text
 * @param pass     PASS (true), FAIL (false) or SKIPPED (null)
 * @param unmet    the conditions not met; empty unless {@code pass} is false
 */
public record Criterion(String id, String name, String target, String measured, Boolean pass, List<Condition> unmet) {

    public Criterion {
        unmet = List.copyOf(unmet);
    }

    /** A criterion judged by {@code conditions}: it passes when every one is met. */
    public static Criterion judged(String id, String name, String target, String measured, Condition... conditions) {
        List<Condition> failed = java.util.Arrays.stream(conditions).filter(c -> !c.met()).toList();
        return new Criterion(id, name, target, measured, failed.isEmpty(), failed);
    }

    public static Criterion skipped(String id, String name, String target, String why) {
        return new Criterion(id, name, target, "skipped: " + why, null, List.of());
    }

    public String verdict() {
        return pass == null ? "SKIP" : pass ? "PASS" : "FAIL";
    }

    /** The measurement, followed on a failure by each unmet condition. */
    public String measuredWithReasons() {
        if (unmet.isEmpty()) {
            return measured;
        }
        StringBuilder sb = new StringBuilder(measured).append(" — failed: ");
        for (int i = 0; i < unmet.size(); i++) {
            sb.append(i == 0 ? "" : "; ").append(unmet.get(i).describe());
        }
        return sb.toString();
    }
}

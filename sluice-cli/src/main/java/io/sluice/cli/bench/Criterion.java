package io.sluice.cli.bench;

/**
 * One row of the result table: a success criterion of the seed, what was measured, and whether it met
 * the target. {@code pass} is null when the criterion could not be measured in this run (e.g. it
 * needs the embedded mock); that counts as not passed.
 *
 * <p><b>Thread-safety:</b> immutable.
 *
 * @param id       stable id for JSON ({@code memory}, {@code hit_rate}, ...)
 * @param name     the seed's name (Memory Usage, Connection Reuse, ...)
 * @param target   the target as text
 * @param measured the measurement as text
 * @param pass     PASS (true), FAIL (false) or SKIPPED (null)
 */
public record Criterion(String id, String name, String target, String measured, Boolean pass) {

    public String verdict() {
        return pass == null ? "SKIP" : pass ? "PASS" : "FAIL";
    }

    public static Criterion skipped(String id, String name, String target, String why) {
        return new Criterion(id, name, target, "skipped: " + why, null);
    }
}

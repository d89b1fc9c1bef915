package io.sluice.cli.bench;

/**
 * One step of the bench run. A phase builds its own client(s), measures, closes them, and returns
 * its {@link PhaseResult}; it never decides PASS or FAIL ({@link Criteria} does).
 *
 * <p><b>Thread-safety:</b> a phase instance runs once, on the runner's thread.
 */
public interface Phase {
    /** Stable id, the key under {@code "phases"} in the JSON. */
    String id();

    PhaseResult run(BenchContext ctx) throws Exception;
}

package io.sluice.cli.bench;

import java.util.List;
import java.util.Map;

/**
 * The outcome of a bench run: one {@link Criterion} per seed success criterion, the phases' results,
 * the failed requests over all phases, and where it ran.
 *
 * <p><b>Thread-safety:</b> immutable after construction (the phase results are no longer written).
 *
 * @param environment    machine, JVM, transport and TLS provider, target
 * @param criteria       the table rows, in the seed's order
 * @param phases         the phase results, in run order
 * @param errors         failed requests over all phases
 * @param durationMillis wall time of the whole run
 */
public record BenchReport(Map<String, Object> environment, List<Criterion> criteria, List<PhaseResult> phases,
        long errors, long durationMillis) {

    public BenchReport {
        criteria = List.copyOf(criteria);
        phases = List.copyOf(phases);
    }

    /** True when every criterion passed (a skipped one does not). */
    public boolean allPass() {
        return criteria.stream().allMatch(c -> Boolean.TRUE.equals(c.pass()));
    }

    public PhaseResult phase(String id) {
        return phases.stream().filter(p -> p.id().equals(id)).findFirst().orElse(null);
    }

    public Criterion criterion(String id) {
        return criteria.stream().filter(c -> c.id().equals(id)).findFirst().orElse(null);
    }
}

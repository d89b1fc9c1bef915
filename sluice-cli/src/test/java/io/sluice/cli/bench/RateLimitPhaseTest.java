package io.sluice.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.cli.Terminal;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The shared-rate-limit phase's shape, small: two client JVMs share one key against the mock limited to 30
 * requests per 3 s, for two windows, in each mode. Asserts the structure (figures side by side per mode, per-window
 * counts), that the unshaped clients get 429s, and that the fleet budget on Redis gets none after its first window.
 * Throughput against the limit is not asserted: with one measured window of 3 s on a shared two-core machine it
 * moves with the scheduling of four JVMs; the real phase ({@code ./sluice bench --rate-limits}) judges it.
 */
class RateLimitPhaseTest {

    @Test
    @Timeout(240)
    void fleetModeGetsNo429AfterItsFirstWindow() throws Exception {
        BenchOptions o = BenchOptions.quickDefaults().withProgress(false);
        PhaseResult r;
        try (BenchTarget target = BenchTarget.startMock();
             ProgressLine progress = new ProgressLine(new PrintStream(new ByteArrayOutputStream()), Terminal.PLAIN, false)) {
            r = new RateLimitPhase(2, 30, Duration.ofSeconds(3), 2, 4).run(new BenchContext(o, target, progress));
        }
        assertThat(r.skipped()).isNull();
        assertThat(r.number("processes")).isEqualTo(2);
        for (String figure : List.of("r429_total", "r429_after_first_window", "completed_total", "completed_per_minute",
                "ratio_to_limit", "other")) {
            assertThat(List.copyOf(((Map<?, ?>) r.metrics().get(figure)).keySet())).as(figure).isEqualTo(List.of("none", "local", "fleet"));
        }
        for (String mode : RateLimitPhase.MODES) {
            Map<?, ?> m = (Map<?, ?>) r.metrics().get("mode_" + mode);
            assertThat((List<?>) m.get("completed_per_window")).as(mode).hasSize(2);
            assertThat(((Number) m.get("completed_total")).longValue()).as(mode + " completed").isPositive();
            assertThat(((Number) m.get("other")).longValue()).as(mode + " other outcomes: " + m.get("sample_error")).isZero();
        }
        Map<?, ?> none = (Map<?, ?>) r.metrics().get("mode_none");
        assertThat(((Number) none.get("r429_total")).longValue()).as("unshaped clients get 429s").isPositive();
        assertThat(((Number) none.get("mock_rejected_429")).longValue()).isPositive();
        Map<?, ?> fleet = (Map<?, ?>) r.metrics().get("mode_fleet");
        assertThat(((Number) fleet.get("r429_after_first_window")).longValue()).as("fleet: 429s after the first window, "
                + fleet).isZero();
        assertThat(((Number) ((Map<?, ?>) fleet.get("limiter")).get("fleet_admitted")).longValue()).isPositive();

        assertThat(Criteria.evaluate(Map.of("rate_limits", r))).extracting(Criterion::id).contains("rate_limits_fleet");
        assertThat(Criteria.evaluate(Map.of())).extracting(Criterion::id).doesNotContain("rate_limits_fleet");
        Criterion c = Criteria.rateLimitsFleet(r);
        assertThat(c.measured()).contains("fleet: 0 429s after the first window");
    }

    @Test
    void theFleetVerdictFollowsTheFigures() {
        PhaseResult r = new PhaseResult("rate_limits", "t");
        r.metric("limit_per_minute", 720.0);
        r.metric("r429_after_first_window", Map.of("none", 500L, "local", 12L, "fleet", 0L));
        r.metric("completed_per_minute", Map.of("none", 719.0, "local", 716.0, "fleet", 705.0));
        r.metric("ratio_to_limit", Map.of("none", 0.999, "local", 0.994, "fleet", 0.979));
        assertThat(Criteria.rateLimitsFleet(r).pass()).isTrue();
        r.metric("ratio_to_limit", Map.of("none", 0.999, "local", 0.994, "fleet", 0.93));
        assertThat(Criteria.rateLimitsFleet(r).pass()).isFalse();
        r.metric("ratio_to_limit", Map.of("none", 0.999, "local", 0.994, "fleet", 0.99));
        r.metric("r429_after_first_window", Map.of("none", 500L, "local", 12L, "fleet", 1L));
        assertThat(Criteria.rateLimitsFleet(r).pass()).isFalse();
    }
}

package io.sluice.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.cli.Terminal;
import io.sluice.pool.ScalingDecision;
import io.sluice.pool.ScalingDecision.Action;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The criteria rows as a user reads them: a failed row names the condition that failed (in the text
 * and, machine-readably, in the JSON), durations print in the unit they need, and the scaling summary
 * agrees with its own event list. Built from recorded phase numbers, not from a run.
 */
class CriteriaTest {

    private static PhaseResult streams(long streams, long openAtOnce, long failed, Long barrierTimeouts) {
        PhaseResult p = new PhaseResult("streams", "streams");
        p.metric("streams", streams);
        p.metric("ok", streams - failed);
        p.metric("failed", failed);
        p.metric("connections_created", 100);
        p.metric("max_streams_one_connection", 100);
        p.metric("max_streams_overall", openAtOnce);
        p.metric("source", "mock counters");
        p.metric("ttle_p99_ms", 3000.0);
        p.metric("barrier_timeout_s", 60);
        if (barrierTimeouts != null) {
            p.metric("barrier_timeouts", barrierTimeouts);
        }
        return p;
    }

    @Test
    void tenKRowThatMissedConcurrencySaysSoAndNothingElse() {
        // The run the review saw: 10 000 streams, 9 597 open at once, 0 failed.
        Criterion c = Criteria.load10k(streams(10_000, 9_597, 0, null));
        assertThat(c.pass()).isFalse();
        assertThat(c.unmet()).extracting(Condition::id).containsExactly("all_open_at_once");
        assertThat(c.unmet().get(0).actual()).isEqualTo(9_597L);
        assertThat(c.measuredWithReasons()).contains("failed: >= 10000 streams open at once (mock counters): got 9,597");
    }

    @Test
    void tenKRowNamesABarrierThatTimedOutAndFailedStreams() {
        Criterion c = Criteria.load10k(streams(10_000, 9_999, 3, 1L));
        assertThat(c.unmet()).extracting(Condition::id)
                .containsExactly("all_open_at_once", "no_failed_requests", "barrier_completed");
        assertThat(c.measuredWithReasons()).contains("within the barrier's 60 s deadline");
        Criterion ok = Criteria.load10k(streams(10_000, 10_000, 0, 0L));
        assertThat(ok.pass()).isTrue();
        assertThat(ok.unmet()).isEmpty();
        assertThat(ok.measuredWithReasons()).isEqualTo(ok.measured()).doesNotContain("failed:");
    }

    @Test
    void acquisitionPrintsNanosecondsAndMicrosecondsNotZeroMilliseconds() {
        PhaseResult p = new PhaseResult("acquire", "acquire");
        p.metric("ok", 3000);
        p.metric("acquire_call_samples", 7548);
        p.metric("acquire_call_p50_ns", 412L);
        p.metric("acquire_call_p99_ns", 11_695L);
        p.metric("acquire_call_max_ns", 1_024_511L);
        p.metric("acquire_wait_p99_ns", 0L);
        p.metric("acquire_wait_p50_ms", 0.0);
        Criterion c = Criteria.acquireLatency(p);
        assertThat(c.measured()).contains("p50 412 ns").contains("p99 11.7 µs").contains("max 1.02 ms")
                .contains("7,548 samples").doesNotContain("0.000 ms");
        assertThat(c.pass()).isTrue();

        p.metric("acquire_call_p99_ns", 1_500_000L);
        Criterion slow = Criteria.acquireLatency(p);
        assertThat(slow.pass()).isFalse();
        assertThat(slow.unmet()).extracting(Condition::id).containsExactly("acquire_call_p99_below_max");
        assertThat(slow.unmet().get(0).actual()).isEqualTo(1_500_000L);
    }

    @Test
    void durationsPickTheirUnit() {
        assertThat(Num.duration(0)).isEqualTo("0 ns");
        assertThat(Num.duration(999)).isEqualTo("999 ns");
        assertThat(Num.duration(1_243)).isEqualTo("1.24 µs");
        assertThat(Num.duration(250_000)).isEqualTo("250 µs");
        assertThat(Num.duration(12_500_000)).isEqualTo("12.5 ms");
        assertThat(Num.duration(1_200_000_000)).isEqualTo("1.20 s");
    }

    private static ScalingDecision decision(long atMillis, Action a, int from, int to) {
        return new ScalingDecision(atMillis * 1_000_000, "p", a, from, to, 150, 0.9, 100, 10);
    }

    @Test
    void scalingSummaryAgreesWithItsEventsWhenAGrowLandsAfterTheBurst() {
        // Burst ends at 3 s; the scaler's fourth grow (judging the interval that just ended) comes at 3.2 s.
        List<ScalingDecision> ds = List.of(decision(1000, Action.GROW, 10, 12), decision(2000, Action.GROW, 12, 14),
                decision(2990, Action.GROW, 14, 16), decision(3200, Action.GROW, 16, 19),
                decision(4200, Action.HOLD, 19, 19), decision(5200, Action.SHRINK, 19, 15));
        ScalingSummary s = ScalingSummary.of(ds, 10, 0, 3_000_000_000L);
        assertThat(s.maxAfterBurst()).isEqualTo(16);
        assertThat(s.growsInBurst()).isEqualTo(3);
        assertThat(s.growsInIdle()).isEqualTo(1);
        assertThat(s.shrinksInIdle()).isEqualTo(1);
        assertThat(s.maxAfterIdle()).isEqualTo(15);
        assertThat(s.events()).extracting(m -> m.get("spell"))
                .containsExactly("burst", "burst", "burst", "idle", "idle", "idle");
        // The events the report lists, counted the way a reader would, give the summary's numbers.
        long burstGrows = s.events().stream().filter(m -> m.get("spell").equals("burst") && m.get("action").equals("GROW"))
                .count();
        assertThat(burstGrows).isEqualTo(s.growsInBurst());

        PhaseResult p = new PhaseResult("scaling", "scaling");
        p.metric("start_max_connections", 10);
        p.metric("max_after_burst", s.maxAfterBurst());
        p.metric("max_after_idle", s.maxAfterIdle());
        p.metric("grows", s.growsInBurst());
        p.metric("shrinks", s.shrinksInIdle());
        p.metric("grows_in_idle", s.growsInIdle());
        p.metric("shrinks_in_burst", s.shrinksInBurst());
        p.metric("scaler_interval_s", 1.0);
        p.metric("failed", 0);
        Criterion c = Criteria.scaling(p);
        assertThat(c.measured()).startsWith("10 → 16 during the burst (3 grows), → 15 when idle (1 shrink; also 1 grow"
                + " after the burst, 0 shrinks during it)");
        assertThat(c.pass()).isTrue();
    }

    @Test
    void passAndFailAreColouredOnlyWhereColourIsAllowed() {
        BenchReport report = report(Criteria.load10k(streams(10_000, 9_597, 0, null)),
                Criteria.load10k(streams(10_000, 10_000, 0, 0L)));
        String coloured = TextReport.table(report, Terminal.detect(true, Map.of("TERM", "xterm")));
        assertThat(coloured).contains("\u001b[31mFAIL\u001b[0m").contains("\u001b[32mPASS\u001b[0m");
        String noColor = TextReport.table(report, Terminal.detect(true, Map.of("NO_COLOR", "1")));
        assertThat(noColor).doesNotContain("\u001b[").contains("| FAIL |").contains("| PASS |");
        assertThat(TextReport.table(report, Terminal.detect(false, Map.of()))).doesNotContain("\u001b[");
    }

    @Test
    void jsonCarriesASchemaVersionAndEachFailedConditionAsData() throws Exception {
        BenchReport report = report(Criteria.load10k(streams(10_000, 9_597, 2, 1L)));
        JsonNode root = new ObjectMapper().readTree(JsonReport.write(report));
        assertThat(root.get("schema_version").asInt()).isEqualTo(JsonReport.SCHEMA_VERSION).isEqualTo(1);
        JsonNode failed = root.at("/criteria/0/failed_conditions");
        assertThat(failed.isArray()).isTrue();
        assertThat(failed).extracting(n -> n.get("id").asText())
                .containsExactly("all_open_at_once", "no_failed_requests", "barrier_completed");
        assertThat(failed.get(0).get("actual").asLong()).isEqualTo(9_597);
        assertThat(failed.get(0).get("expected").asText()).contains("10000");
        assertThat(failed.get(1).get("actual").asLong()).isEqualTo(2);
    }

    private static BenchReport report(Criterion... criteria) {
        return new BenchReport(Map.of("target", "t", "os", "o", "cpus", 2, "java", "j", "mode", "m"),
                List.of(criteria), List.of(), 0, 1);
    }
}

package io.sluice.pool.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.pool.health.OutlierDetector.Admission;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class OutlierDetectorTest {

    private final AtomicLong now = new AtomicLong();
    private final OutlierDetector detector = new OutlierDetector(OutlierDetector.Settings.defaults(), now::get);

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    private void fail(int n) {
        for (int i = 0; i < n; i++) {
            detector.recordFailure("r");
        }
    }

    @Test
    void fiveConsecutiveFailuresEjectForThirtySeconds() {
        fail(4);
        assertThat(detector.admit("r")).isEqualTo(Admission.ALLOWED);
        detector.recordSuccess("r");
        fail(4);
        assertThat(detector.admit("r")).as("a success reset the count").isEqualTo(Admission.ALLOWED);
        fail(1);
        assertThat(detector.admit("r")).isEqualTo(Admission.EJECTED);
        assertThat(detector.remainingEjection("r")).isEqualTo(Duration.ofSeconds(30));
        advance(Duration.ofSeconds(29));
        assertThat(detector.admit("r")).isEqualTo(Admission.EJECTED);
    }

    @Test
    void theRouteReturnsThroughASingleProbe() {
        fail(5);
        advance(Duration.ofSeconds(30));
        assertThat(detector.admit("r")).isEqualTo(Admission.PROBE);
        assertThat(detector.admit("r")).as("only one probe at a time").isEqualTo(Admission.EJECTED);
        detector.recordSuccess("r");
        assertThat(detector.admit("r")).isEqualTo(Admission.ALLOWED);
        assertThat(detector.isEjected("r")).isFalse();
    }

    @Test
    void aFailedProbeEjectsForLongerUpToTheCap() {
        fail(5);
        for (int ejection = 2; ejection <= 12; ejection++) {
            advance(detector.remainingEjection("r"));
            assertThat(detector.admit("r")).isEqualTo(Admission.PROBE);
            detector.recordFailure("r");
            long expected = Math.min(30L * ejection, 300L);
            assertThat(detector.remainingEjection("r")).as("ejection %d", ejection).isEqualTo(Duration.ofSeconds(expected));
        }
        assertThat(detector.ejections("r")).isEqualTo(12);
    }

    @Test
    void anAbandonedProbeLetsAnotherCallerProbe() {
        fail(5);
        advance(Duration.ofSeconds(31));
        assertThat(detector.admit("r")).isEqualTo(Admission.PROBE);
        detector.probeAbandoned("r");
        assertThat(detector.admit("r")).isEqualTo(Admission.PROBE);
    }

    @Test
    void routesAreIndependent() {
        fail(5);
        assertThat(detector.admit("other")).isEqualTo(Admission.ALLOWED);
    }
}

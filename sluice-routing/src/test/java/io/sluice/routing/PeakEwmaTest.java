package io.sluice.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class PeakEwmaTest {

    private static final long MS = 1_000_000L;

    @Test
    void aPeakReplacesTheEstimateAtOnce() {
        PeakEwma e = new PeakEwma(Duration.ofSeconds(10));
        e.record(10 * MS, 0);
        e.record(200 * MS, 1 * MS);
        assertThat(e.estimateNanos()).isEqualTo(200 * MS);
    }

    @Test
    void lowerSamplesDecayTheEstimateWithElapsedTime() {
        PeakEwma e = new PeakEwma(Duration.ofSeconds(10));
        e.record(200 * MS, 0);
        e.record(10 * MS, 10_000 * MS); // one decay constant later: weight e^-1 on the old value
        double expected = 200 * Math.exp(-1) + 10 * (1 - Math.exp(-1));
        assertThat(e.estimateNanos() / (double) MS).isCloseTo(expected, org.assertj.core.data.Offset.offset(0.01));
        PeakEwma quick = new PeakEwma(Duration.ofSeconds(10));
        quick.record(200 * MS, 0);
        quick.record(10 * MS, 1 * MS); // barely any time passed: the estimate barely moves
        assertThat(quick.estimateNanos()).isGreaterThan(199 * MS);
    }

    @Test
    void noDataBeforeTheFirstSample() {
        PeakEwma e = new PeakEwma(Duration.ofSeconds(1));
        assertThat(e.hasData()).isFalse();
        assertThat(e.estimateNanos()).isZero();
    }
}

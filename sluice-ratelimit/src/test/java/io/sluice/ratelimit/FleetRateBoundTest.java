package io.sluice.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The rate a fleet's shared bucket is configured with must never exceed the provider's, whatever rounding the
 * provider's figures carry: a shared bucket refilling faster than the provider's gains on it by a little every
 * second, forever, and every process's reservations arrive early (a steady trickle of 429s in the fleet bench,
 * and in {@code FleetBudgetsTest} once each process's first figures configured the bucket). The figures here
 * are rounded as a provider rounds them (the testkit's mock does the same): remaining down to a whole request,
 * the reset up to a whole millisecond.
 */
class FleetRateBoundTest {

    /** 20 per 2 s: 10 per second, refilling continuously. */
    private static final double LIMIT = 20;
    private static final double TRUE_PER_NANO = 10 / 1e9;

    /** The provider's figures for {@code used} units used (fractional: it refills continuously). */
    private static long[] figures(double used) {
        long remaining = (long) Math.floor(LIMIT - used);
        long resetMs = (long) Math.ceil(used / TRUE_PER_NANO / 1e6);
        return new long[] {remaining, resetMs};
    }

    private static void observe(Dimension d, double used, long now) {
        long[] f = figures(used);
        d.observe((long) LIMIT, f[0], now + f[1] * 1_000_000L, now);
    }

    @Test
    void theFleetRateIsNeverAboveTheProvidersWhateverTheRounding() {
        List<Double> usedLevels = new ArrayList<>();
        for (double used = 0.05; used < LIMIT; used += 0.37) {
            usedLevels.add(used);
        }
        long now = 1_000_000_000L;
        double perResponseMax = 0;
        Dimension d = new Dimension();
        for (double used : usedLevels) {
            observe(d, used, now);
            perResponseMax = Math.max(perResponseMax, d.ratePerNano());
            if (LIMIT - Math.floor(LIMIT - used) >= 2) { // bounded from the first figure showing 2 used on
                assertThat(d.fleetRatePerNano()).as("fleet rate after %.2f used", used).isLessThanOrEqualTo(TRUE_PER_NANO);
            }
            now += 1_000_000L;
        }
        // the per-response rate (which the next response corrects) does overshoot, by up to ~2x here: 1.1 used shows
        // as 2 used (remaining 18) over a 110 ms reset, 18 per second for a limit refilling at 10
        assertThat(perResponseMax).as("per-response estimate").isGreaterThan(1.5 * TRUE_PER_NANO);
        // and the bound is tight once the budget was nearly used: within (used - 1) / used of the truth
        assertThat(d.fleetRatePerNano()).isGreaterThan(0.9 * TRUE_PER_NANO);
    }

    @Test
    void oneUsedGivesAProvisionalRateThatTheFirstFigureWithTwoReplaces() {
        Dimension d = new Dimension();
        observeRaw(d, 19, 5); // 0.05 used shows as 1 over a 5 ms reset: 200 per second, or anything below
        assertThat(d.fleetRatePerNano()).as("provisional: the figure's own").isEqualTo(1.0 / 5_000_000L);
        observeRaw(d, 18, 200); // 2 used over 200 ms: at least 1 per 200 ms
        assertThat(d.fleetRatePerNano()).isEqualTo(1.0 / 200_000_000L).isLessThanOrEqualTo(TRUE_PER_NANO);
    }

    private static void observeRaw(Dimension d, long remaining, long resetMs) {
        long now = 1_000_000_000L;
        d.observe((long) LIMIT, remaining, now + resetMs * 1_000_000L, now);
    }

    @Test
    void theBoundTightensOnlyWhenTheUsedCountDoubles() {
        Dimension d = new Dimension();
        long now = 1_000_000_000L;
        observe(d, 2.0, now);
        double first = d.fleetRatePerNano();
        assertThat(first).isPositive();
        observe(d, 3.0, now); // 3 < 2 x 2: kept as it was (a shared bucket is not reconfigured at every response)
        assertThat(d.fleetRatePerNano()).isEqualTo(first);
        observe(d, 4.0, now);
        assertThat(d.fleetRatePerNano()).isGreaterThan(first).isLessThanOrEqualTo(TRUE_PER_NANO);
        d.observe(40, 37, now + 100_000_000L, now); // a new limit: learned anew, from its own figures
        assertThat(d.fleetRatePerNano()).isEqualTo(2.0 / 100_000_000L);
    }
}

package io.sluice.http.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The adaptive window from a connection-wide BDP sample: the connection window takes the whole
 * estimate, a stream's window only its share of it, so the windows of the active streams together
 * never commit the server to more than the connection window (RFC 9113 §6.9). Time is passed in, no
 * clock is read.
 */
@Timeout(10)
class BdpEstimatorTest {

    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;
    private static final long MS = 1_000_000L;

    /** One estimation round: {@code bytes} arrive within one round trip of 1 ms on {@code streams} active streams. */
    private static BdpEstimator.Windows round(BdpEstimator e, long t0, long bytes, int streams) {
        assertThat(e.onData(1, streams, t0)).as("an estimation PING goes out").isTrue();
        for (long left = bytes - 1; left > 0; left -= 16 * KIB) {
            assertThat(e.onData((int) Math.min(left, 16 * KIB), streams, t0)).isFalse();
        }
        return e.onPingAck(streams, t0 + MS);
    }

    @Test
    void aSingleStreamGetsTheWholeEstimate() {
        BdpEstimator e = new BdpEstimator(64 * KIB, 128 * KIB, 16 * MIB);
        BdpEstimator.Windows w = round(e, 0, 200 * KIB, 1);
        assertThat(w).isNotNull();
        assertThat(w.stream()).isEqualTo(400 * KIB);
        assertThat(w.connection()).isEqualTo(400 * KIB);
        assertThat(e.streamWindow()).isEqualTo(400 * KIB);
    }

    @Test
    void aSampleBelowTwoThirdsOfTheWindowChangesNothing() {
        BdpEstimator e = new BdpEstimator(64 * KIB, 128 * KIB, 16 * MIB);
        assertThat(round(e, 0, 20 * KIB, 1)).isNull();
        assertThat(e.streamWindow()).isEqualTo(64 * KIB);
    }

    @Test
    void manyStreamsShareTheEstimateInsteadOfEachGettingIt() {
        BdpEstimator e = new BdpEstimator(64 * KIB, 128 * KIB, 16 * MIB);
        BdpEstimator.Windows w = round(e, 0, 8 * MIB, 100);
        assertThat(w).isNotNull();
        assertThat(w.connection()).as("the connection window takes the whole estimate").isEqualTo(16 * MIB);
        assertThat(100L * w.stream()).as("100 streams × their window, against the connection window %s", w)
                .isLessThanOrEqualTo(w.connection());
        assertThat(w.stream()).as("still grown above the initial window").isGreaterThan(64 * KIB);
    }

    @Test
    void theStreamWindowFollowsTheNumberOfActiveStreams() {
        BdpEstimator e = new BdpEstimator(64 * KIB, 128 * KIB, 16 * MIB);
        BdpEstimator.Windows many = round(e, 0, 4 * MIB, 64);
        assertThat(many).isNotNull();
        assertThat(64L * many.stream()).isLessThanOrEqualTo(many.connection());
        // The other streams ended; one stream is left receiving: it may use the whole estimate.
        BdpEstimator.Windows one = round(e, 10 * MS, 100 * KIB, 1);
        assertThat(one).isNotNull();
        assertThat(one.stream()).isEqualTo(one.connection()).isEqualTo(8 * MIB);
        // Many streams again: each window shrinks back to its share.
        BdpEstimator.Windows again = round(e, 20 * MS, 100 * KIB, 64);
        assertThat(again).isNotNull();
        assertThat(64L * again.stream()).isLessThanOrEqualTo(again.connection());
    }

    @Test
    void aFewMoreStreamsShrinkTheWindowAtOnceAFewFewerDoNotGrowIt() {
        BdpEstimator e = new BdpEstimator(64 * KIB, 128 * KIB, 16 * MIB);
        BdpEstimator.Windows three = round(e, 0, 12 * MIB, 3);
        assertThat(three).isNotNull();
        BdpEstimator.Windows five = round(e, 10 * MS, 12 * MIB, 5);
        assertThat(five).as("more streams: a smaller share at once").isNotNull();
        assertThat(5L * five.stream()).isLessThanOrEqualTo(five.connection());
        assertThat(e.onData(1, 3, 20 * MS)).as("back to 3: the share grew by less than 2x, no PING needed")
                .isFalse();
        assertThat(e.streamWindow()).isEqualTo(five.stream());
    }

    @Test
    void noStreamWindowExceedsTheConnectionWindowNorTheMaximum() {
        BdpEstimator e = new BdpEstimator(64 * KIB, 128 * KIB, 16 * MIB);
        long t = 0;
        for (int streams : new int[] {1, 3, 100, 7, 1, 250, 2}) {
            BdpEstimator.Windows w = round(e, t, 12 * MIB, streams);
            t += 10 * MS;
            if (w != null) {
                assertThat(w.stream()).isLessThanOrEqualTo(w.connection());
                assertThat(w.connection()).isLessThanOrEqualTo(16 * MIB);
                assertThat((long) streams * w.stream()).as("%s streams: %s", streams, w)
                        .isLessThanOrEqualTo(Math.max(w.connection(), (long) streams * 64 * KIB));
            }
        }
    }
}

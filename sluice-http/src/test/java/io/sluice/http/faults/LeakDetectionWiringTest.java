package io.sluice.http.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.sluice.http.LeakCountingAppender;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Proves that the leak checks of the fault matrix can fail: paranoid detection is on, and a
 * buffer leaked on purpose is reported through SLF4J ({@code io.netty.util.ResourceLeakDetector}
 * at ERROR) to {@link LeakCountingAppender}. The report is marked, so it is counted apart.
 */
class LeakDetectionWiringTest {

    @Test
    void aLeakedBufferIsReportedToTheCountingAppender() {
        assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.PARANOID);
        int before = LeakCountingAppender.deliberateLeaks();
        leakOne();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> {
            FaultSupport.provokeLeakReports();
            return LeakCountingAppender.deliberateLeaks() > before;
        });
    }

    private static void leakOne() {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        b.touch(LeakCountingAppender.DELIBERATE);
        b.writeInt(42);
        // dropped without release(): unreachable once this frame returns
    }
}

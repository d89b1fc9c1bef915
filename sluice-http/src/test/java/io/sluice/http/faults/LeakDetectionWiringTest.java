package io.sluice.http.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.sluice.testkit.junit.NettyLeakCheck;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Proves that the leak checks of the fault matrix can fail: paranoid detection is on, and a
 * buffer leaked on purpose is reported through SLF4J ({@code io.netty.util.ResourceLeakDetector}
 * at ERROR) to the testkit's counter ({@link NettyLeakCheck}, which {@code MockProviderExtension} and
 * {@code @ExtendWith(NettyLeakCheck.class)} run after each class). The report is marked, so it is counted apart.
 */
class LeakDetectionWiringTest {

    @Test
    void aLeakedBufferIsReportedToTheCountingAppender() {
        assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.PARANOID);
        int before = NettyLeakCheck.deliberateLeaks();
        leakOne();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> {
            NettyLeakCheck.provokeReports();
            return NettyLeakCheck.deliberateLeaks() > before;
        });
    }

    private static void leakOne() {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        b.touch(NettyLeakCheck.DELIBERATE);
        b.writeInt(42);
        // dropped without release(): unreachable once this frame returns
    }
}

package io.sluice.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.http.RouteUnavailableException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RegionSelectorTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final RegionSelector selector = new RegionSelector(List.of("eu-west-1", "us-east-1", "ap-south-1"),
            RegionSelector.DEFAULT_REGION, Duration.ofSeconds(10), now::get);

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    void usEast1BeforeAnyData() {
        assertThat(selector.choose()).isEqualTo("us-east-1");
    }

    @Test
    void lowestLatencyWins() {
        selector.recordLatency("eu-west-1", Duration.ofMillis(40));
        selector.recordLatency("us-east-1", Duration.ofMillis(90));
        selector.recordLatency("ap-south-1", Duration.ofMillis(150));
        assertThat(selector.choose()).isEqualTo("eu-west-1");
        assertThat(selector.candidates()).containsExactly("eu-west-1", "us-east-1", "ap-south-1");
    }

    @Test
    void aRateLimitedRegionCoolsDownAndTrafficFailsOver() {
        selector.recordLatency("eu-west-1", Duration.ofMillis(40));
        selector.recordLatency("us-east-1", Duration.ofMillis(90));
        selector.recordPenalty("eu-west-1", Duration.ofSeconds(20));
        assertThat(selector.choose()).isEqualTo("us-east-1");
        assertThat(selector.cooldowns()).containsOnlyKeys("eu-west-1");
        advance(Duration.ofSeconds(21));
        assertThat(selector.cooldowns()).isEmpty();
        assertThat(selector.latencies().get("eu-west-1")).as("penalised sample").isGreaterThanOrEqualTo(Duration.ofSeconds(1));
        assertThat(selector.choose()).as("still penalised after the cooldown").isEqualTo("us-east-1");
    }

    @Test
    void cooldownIsCappedAt300Seconds() {
        selector.recordPenalty("us-east-1", Duration.ofHours(2));
        assertThat(selector.cooldowns().get("us-east-1")).isEqualTo(Duration.ofSeconds(300));
    }

    @Test
    void unhealthyRegionsAreSkipped() {
        selector.recordLatency("eu-west-1", Duration.ofMillis(40));
        selector.setHealthy("eu-west-1", false);
        assertThat(selector.choose()).isEqualTo("us-east-1");
        selector.setHealthy("eu-west-1", true);
        assertThat(selector.choose()).isEqualTo("eu-west-1");
    }

    @Test
    void whenAllAreCoolingTheErrorSaysWhenTheFirstFrees() {
        selector.recordPenalty("eu-west-1", Duration.ofSeconds(50));
        selector.recordPenalty("us-east-1", Duration.ofSeconds(10));
        selector.recordPenalty("ap-south-1", Duration.ofSeconds(70));
        assertThatThrownBy(selector::choose).isInstanceOf(RouteUnavailableException.class)
                .hasMessageContaining("the first to free is us-east-1 in 10000 ms");
    }
}

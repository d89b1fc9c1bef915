package io.sluice.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class PoolConfigTest {

    @Test
    void defaultsAreTheSeedValues() {
        PoolConfig c = PoolConfig.defaults();
        assertThat(c.maxConnections()).isEqualTo(100);
        assertThat(c.minIdle()).isEqualTo(10);
        assertThat(c.maxLifetime()).isEqualTo(Duration.ofSeconds(300));
        assertThat(c.idleTimeout()).isEqualTo(Duration.ofSeconds(90));
        assertThat(c.connectionTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.maxRetries()).isEqualTo(3);
        assertThat(c.validationTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(c.validationBypassWindow()).isEqualTo(Duration.ofMillis(500));
        assertThat(c.maxPending()).isEqualTo(10_000);
        assertThat(c.lifetimeJitter()).isEqualTo(0.025);
        assertThat(c.leakDetectionThreshold()).isZero();
        assertThat(c.failureBackoff()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.maxFailureBackoff()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.closeGracePeriod()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void negativeSizesAreRejectedNamingFieldAndValue() {
        assertThatThrownBy(() -> PoolConfig.builder().maxConnections(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxConnections").hasMessageContaining("0");
        assertThatThrownBy(() -> PoolConfig.builder().minIdle(-1).build())
                .hasMessageContaining("minIdle").hasMessageContaining("-1");
        assertThatThrownBy(() -> PoolConfig.builder().maxRetries(-2).build())
                .hasMessageContaining("maxRetries").hasMessageContaining("-2");
        assertThatThrownBy(() -> PoolConfig.builder().maxPending(-5).build())
                .hasMessageContaining("maxPending").hasMessageContaining("-5");
        assertThatThrownBy(() -> PoolConfig.builder().maxConnecting(0).build())
                .hasMessageContaining("maxConnecting").hasMessageContaining("0");
    }

    @Test
    void minIdleAboveMaxConnectionsIsRejected() {
        assertThatThrownBy(() -> PoolConfig.builder().maxConnections(5).minIdle(6).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("minIdle (6)").hasMessageContaining("maxConnections (5)");
    }

    @Test
    void zeroOrNegativeTimeoutsAreRejected() {
        assertThatThrownBy(() -> PoolConfig.builder().connectionTimeout(Duration.ZERO).build())
                .hasMessageContaining("connectionTimeout").hasMessageContaining("PT0S");
        assertThatThrownBy(() -> PoolConfig.builder().idleTimeout(Duration.ofSeconds(-1)).build())
                .hasMessageContaining("idleTimeout").hasMessageContaining("PT-1S");
        assertThatThrownBy(() -> PoolConfig.builder().maxLifetime(Duration.ZERO).build())
                .hasMessageContaining("maxLifetime");
        assertThatThrownBy(() -> PoolConfig.builder().validationTimeout(Duration.ofMillis(-3)).build())
                .hasMessageContaining("validationTimeout");
        assertThatThrownBy(() -> PoolConfig.builder().lifetimeJitter(0.9).build())
                .hasMessageContaining("lifetimeJitter").hasMessageContaining("0.9");
    }

    @Test
    void toBuilderRoundTrips() {
        PoolConfig c = PoolConfig.builder().maxConnections(7).minIdle(2).maxPending(3).maxConnecting(4).build();
        assertThat(c.toBuilder().build()).isEqualTo(c);
    }

    @Test
    void backoffAndGracePeriodAreCheckedNamingFieldAndValue() {
        assertThatThrownBy(() -> PoolConfig.builder().failureBackoff(Duration.ZERO).build())
                .hasMessageContaining("failureBackoff");
        assertThatThrownBy(() -> PoolConfig.builder().failureBackoff(Duration.ofSeconds(60)).build())
                .hasMessageContaining("maxFailureBackoff").hasMessageContaining("PT1M");
        assertThatThrownBy(() -> PoolConfig.builder().closeGracePeriod(Duration.ofSeconds(-1)).build())
                .hasMessageContaining("closeGracePeriod");
        PoolConfig c = PoolConfig.builder().closeGracePeriod(Duration.ZERO).failureBackoff(Duration.ofMillis(200))
                .maxFailureBackoff(Duration.ofSeconds(5)).build();
        assertThat(c.toBuilder().build()).isEqualTo(c);
    }

    @Test
    void aNegativeTargetOfStreamsPerConnectionIsRefused() {
        assertThatThrownBy(() -> PoolConfig.builder().targetStreamsPerConnection(-1).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("targetStreamsPerConnection");
        assertThat(PoolConfig.defaults().targetStreamsPerConnection()).isZero();
    }
}

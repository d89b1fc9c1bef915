package io.sluice.http.faults;

import static io.sluice.http.faults.FaultSupport.assertAccountingExact;
import static io.sluice.http.faults.FaultSupport.clientFor;
import static io.sluice.http.faults.FaultSupport.failsWithin;
import static io.sluice.http.faults.FaultSupport.within;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.pool.health.OutlierDetector;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.RouteUnavailableException;
import io.sluice.http.faults.FaultSupport.Proto;
import io.sluice.testkit.MockBehavior;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Fault matrix row 9: a burst of 5xx ejects the route (requests fail fast with RouteUnavailableException and
 * never reach the server); after the ejection time one probe goes through, and when it succeeds the route is back.
 */
class OutlierEjectionFaultTest {

    @ParameterizedTest
    @EnumSource(Proto.class)
    void row09_burstOf5xxEjectsAndAProbeRecovers(Proto p) {
        Duration ejection = Duration.ofMillis(500);
        try (MockProvider mock = MockProvider.start(MockOptions.builder()
                .behavior(MockBehavior.builder().status(500).build()).build());
             ConnectionPoolManager client = clientFor(mock).statusRetries(false)
                     .outlierDetection(new OutlierDetector.Settings(5, ejection, Duration.ofSeconds(5))).build()) {
            HttpRequest get = HttpRequest.newBuilder(p.uri(mock, "/v1/models")).build();
            for (int i = 0; i < 5; i++) {
                assertThat(within(client.send(get), ejection).status()).isEqualTo(500);
            }
            long seen = mock.stats().totalRequests();
            failsWithin(client.send(get), ejection, RouteUnavailableException.class);
            assertThat(mock.stats().totalRequests()).as("an ejected route sends nothing").isEqualTo(seen);
            mock.behavior(MockBehavior.defaults()); // the upstream recovers
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
                try {
                    assertThat(within(client.send(get), ejection).status()).isEqualTo(200);
                } catch (RouteUnavailableException stillEjected) {
                    throw new AssertionError(stillEjected);
                }
            });
            for (int i = 0; i < 5; i++) {
                assertThat(within(client.send(get), ejection).status()).isEqualTo(200);
            }
            assertAccountingExact(client);
        }
    }
}

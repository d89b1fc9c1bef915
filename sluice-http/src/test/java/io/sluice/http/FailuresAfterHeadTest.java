package io.sluice.http;

import static io.sluice.http.HttpTestSupport.chat;
import static io.sluice.http.HttpTestSupport.clientFor;
import static io.sluice.http.HttpTestSupport.https;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.pool.health.OutlierDetector;
import io.sluice.testkit.MockProvider;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A request can fail after its response head was delivered: a stream the server resets mid-body, a body over the
 * size limit. Those are failures of the route like any before the head: a dashboard that counts only the failures
 * before the head shows a healthy route while every stream breaks.
 */
@Timeout(60)
class FailuresAfterHeadTest {

    private static HttpRequest resetMidStream(MockProvider mock) {
        return chat(https(mock, "/v1/chat/completions"), true).toBuilder()
                .header("x-mock-tokens", "10").header("x-mock-reset-after-tokens", "2").build();
    }

    @Test
    void aStreamResetMidBodyIsCountedOnceAndCountsTowardsEjection() {
        OutlierDetector.Settings five = new OutlierDetector.Settings(5, Duration.ofSeconds(30), Duration.ofSeconds(300));
        try (MockProvider mock = MockProvider.start();
             ConnectionPoolManager client = clientFor(mock).statusRetries(false).outlierDetection(five).build()) {
            Route route = Route.of(mock.httpsUri());
            for (int i = 0; i < 5; i++) {
                try (StreamingResponse r = client.streamBlocking(resetMidStream(mock))) {
                    assertThat(r.status()).isEqualTo(200);
                    assertThatThrownBy(() -> {
                        while (r.nextEventBlocking() != null) {
                            // until the reset
                        }
                    }).isInstanceOf(ConnectionLostException.class);
                }
            }
            RouteCounters c = client.counters(route);
            assertThat(c.failures()).containsEntry("ConnectionLostException", 5L);
            assertThat(c.ejected()).as("five streams the server gave up on, as five 5xx would").isTrue();
        }
    }

    @Test
    void anAggregatedResponseThatFailsMidBodyIsCountedOnce() {
        try (MockProvider mock = MockProvider.start();
             ConnectionPoolManager client = clientFor(mock).statusRetries(false).build()) {
            assertThatThrownBy(() -> client.sendBlocking(resetMidStream(mock)))
                    .isInstanceOf(ConnectionLostException.class);
            HttpRequest big = chat(https(mock, "/v1/chat/completions"), false).toBuilder()
                    .header("x-mock-tokens", "2000").build();
            try (ConnectionPoolManager small = clientFor(mock).limits(new Limits(64 * 1024, 1024, 1024 * 1024))
                    .build()) {
                assertThatThrownBy(() -> small.sendBlocking(big)).isInstanceOf(LimitExceededException.class);
                assertThat(small.counters(Route.of(mock.httpsUri())).failures())
                        .containsExactlyEntriesOf(java.util.Map.of("LimitExceededException", 1L));
            }
            assertThat(client.counters(Route.of(mock.httpsUri())).failures())
                    .containsExactlyEntriesOf(java.util.Map.of("ConnectionLostException", 1L));
        }
    }
}

package io.sluice.http.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.ConnectFailedException;
import io.sluice.http.RequestTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The label values are a fixed set, whatever the traffic. */
@Timeout(10)
class MetricLabelsTest {

    @Test
    void methodsAreNormalisedToAFixedSet() {
        assertThat(MetricLabels.method("post")).isEqualTo("POST");
        assertThat(MetricLabels.method("GET")).isEqualTo("GET");
        assertThat(MetricLabels.method("PROPFIND")).isEqualTo("OTHER");
        assertThat(MetricLabels.method(null)).isEqualTo("OTHER");
    }

    @Test
    void statusesAreClassesExceptTheOnesProvidersUse() {
        assertThat(MetricLabels.status(200)).isEqualTo("2xx");
        assertThat(MetricLabels.status(201)).isEqualTo("2xx");
        assertThat(MetricLabels.status(404)).isEqualTo("4xx");
        assertThat(MetricLabels.status(429)).isEqualTo("429");
        assertThat(MetricLabels.status(529)).isEqualTo("529");
        assertThat(MetricLabels.status(503)).isEqualTo("503");
        assertThat(MetricLabels.status(599)).isEqualTo("5xx");
        assertThat(MetricLabels.status(0)).isEqualTo("other");
        assertThat(MetricLabels.status(1234)).isEqualTo("other");
    }

    @Test
    void failureKindsAreTheExceptionTypeNeverTheMessage() {
        assertThat(MetricLabels.kind(new ConnectFailedException("https://h:443", "secret-host refused", null)))
                .isEqualTo("connect_failed");
        assertThat(MetricLabels.kind(new IllegalStateException("x"))).isEqualTo("other");
        assertThat(MetricLabels.kind(null)).isEqualTo("unknown");
        assertThat(RequestTimeoutException.class.getSimpleName()).isEqualTo("RequestTimeoutException");
    }
}

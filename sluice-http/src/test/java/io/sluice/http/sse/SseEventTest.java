package io.sluice.http.sse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SseEventTest {

    @Test
    void missingOrEmptyTypeMeansMessage() {
        assertThat(new SseEvent(null, "d", null, -1).event()).isEqualTo("message");
        assertThat(new SseEvent("", "d", null, -1).event()).isEqualTo("message");
    }

    @Test
    void emptyIdIsNormalisedToNull() {
        assertThat(new SseEvent("e", "d", "", -1).id()).isNull();
    }

    @Test
    void dataIsRequiredAndRetryMustBeUnsetOrNonNegative() {
        assertThatThrownBy(() -> new SseEvent("e", null, null, -1)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new SseEvent("e", "d", null, -2)).isInstanceOf(IllegalArgumentException.class);
    }
}

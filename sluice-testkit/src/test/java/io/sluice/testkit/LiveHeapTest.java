package io.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LiveHeapTest {

    @Test
    void readsTheTotalLine() {
        String histogram = """
                 num     #instances         #bytes  class name (module)
                -------------------------------------------------------
                   1:         12345         987654  [B (java.base@17)
                Total        100200       8975960
                """;
        assertThat(LiveHeap.totalBytes(histogram)).isEqualTo(8975960L);
    }

    @Test
    void noTotalLineIsAnError() {
        assertThatThrownBy(() -> LiveHeap.totalBytes("nothing")).isInstanceOf(IllegalArgumentException.class);
    }
}

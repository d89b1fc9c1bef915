package io.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DurationConverterTest {
    @Test
    void numbersWithUnitsParse() {
        DurationConverter c = new DurationConverter();
        assertThat(c.convert("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(c.convert("10s")).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.convert("2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(c.convert("1h")).isEqualTo(Duration.ofHours(1));
        assertThat(c.convert("PT3S")).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.convert("0s")).isZero();
    }

    @Test
    void aBareNumberIsRefusedSoThatItsUnitIsNeverGuessed() {
        assertThatThrownBy(() -> new DurationConverter().convert("60"))
                .isInstanceOf(CommandLine.TypeConversionException.class).hasMessageContaining("10s");
    }

    @Test
    void negativeAndForPositiveOptionsZeroAreRefused() {
        assertThatThrownBy(() -> new DurationConverter().convert("-5s")).hasMessageContaining("negative");
        assertThatThrownBy(() -> new DurationConverter.Positive().convert("0ms")).hasMessageContaining("more than zero");
        assertThat(new DurationConverter.Positive().convert("1ms")).isEqualTo(Duration.ofMillis(1));
    }
}

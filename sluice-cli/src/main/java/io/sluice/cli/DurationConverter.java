package io.sluice.cli;

import java.time.Duration;
import java.util.Locale;
import picocli.CommandLine;

/**
 * The one duration syntax of every {@code sluice} option: a whole number with a unit,
 * {@code 500ms}, {@code 10s}, {@code 2m}, {@code 1h} (or ISO-8601, {@code PT1M30S}). A bare
 * number is refused, so that {@code --timeout 10} cannot mean seconds to one reader and
 * milliseconds to another. Negative values are refused here; whether zero is allowed is the
 * option's own rule ({@link Positive} refuses it).
 *
 * <p>Stateless; thread-safe.
 */
public class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    static final String SYNTAX = "use a number and a unit: 500ms, 10s, 2m, 1h";

    @Override
    public Duration convert(String value) {
        Duration d = parse(value);
        if (d.isNegative()) {
            throw new CommandLine.TypeConversionException("'" + value + "' is negative");
        }
        return d;
    }

    /** Parses {@code value}; a {@link CommandLine.TypeConversionException} names the syntax when it is not one. */
    public static Duration parse(String value) {
        String t = value.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.startsWith("p") || t.startsWith("-p")) {
                return Duration.parse(t.toUpperCase(Locale.ROOT));
            }
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            if (t.endsWith("s")) {
                return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            if (t.endsWith("m")) {
                return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            if (t.endsWith("h")) {
                return Duration.ofHours(Long.parseLong(t.substring(0, t.length() - 1)));
            }
        } catch (RuntimeException e) {
            // fall through: not a number with a unit
        }
        throw new CommandLine.TypeConversionException("'" + value + "' is not a duration (" + SYNTAX + ")");
    }

    /** A duration that must be above zero (a timeout, how long a run lasts). */
    public static final class Positive extends DurationConverter {
        @Override
        public Duration convert(String value) {
            Duration d = super.convert(value);
            if (d.isZero()) {
                throw new CommandLine.TypeConversionException("'" + value + "' must be more than zero");
            }
            return d;
        }
    }
}

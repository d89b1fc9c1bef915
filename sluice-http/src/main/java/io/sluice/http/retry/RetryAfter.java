package io.sluice.http.retry;

import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the server's "wait this long" hint from a response.
 *
 * <p>Precedence follows the OpenAI and Anthropic SDKs: {@code retry-after-ms} (a non-standard header carrying float
 * milliseconds) first; then {@code Retry-After} as a number of seconds (RFC 9110 §10.2.3 allows only integers; like
 * the SDKs we also accept a fraction); then {@code Retry-After} as an HTTP-date in any of the three forms RFC 9110
 * §5.6.7 says recipients must accept: IMF-fixdate ({@code Sun, 06 Nov 1994 08:49:37 GMT}), the obsolete RFC 850
 * form ({@code Sunday, 06-Nov-94 08:49:37 GMT}) and asctime ({@code Sun Nov  6 08:49:37 1994}). A header that does
 * not parse is skipped in favour of the next one.
 *
 * <p>Results are durations from {@code now}: a date in the past gives {@link Duration#ZERO}; negative numbers,
 * NaN, infinities and garbage give {@link Optional#empty()}. Absurdly large values are clamped to
 * {@link #MAX_HINT} so that callers can compare them without overflow.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
public final class RetryAfter {

    /** The SDKs' millisecond hint. */
    public static final String RETRY_AFTER_MS = "retry-after-ms";
    /** RFC 9110's hint: delta-seconds or an HTTP-date. */
    public static final String RETRY_AFTER = "retry-after";
    /** The largest duration returned; far beyond any cap, small enough to add to an Instant or nanoTime. */
    public static final Duration MAX_HINT = Duration.ofDays(365L * 100);

    // Digits with an optional fraction and exponent, as Python's float() (which the SDKs use) accepts; unlike
    // Double.parseDouble it refuses "NaN", "Infinity", hex floats and a trailing 'd' or 'f'.
    private static final Pattern NUMBER = Pattern.compile("(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?");

    private static final String DAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
    private static final String LONG_DAY = "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)";
    private static final String MONTH = "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
    private static final String TIME = "([0-9]{2}):([0-9]{2}):([0-9]{2})";
    // HTTP-date is case-sensitive on the wire; matching names case-insensitively costs nothing and forgives sloppy
    // servers, which is the recipient's side of "be liberal".
    private static final Pattern IMF_FIXDATE = Pattern.compile(
            DAY + ", ([0-9]{2}) " + MONTH + " ([0-9]{4}) " + TIME + " GMT", Pattern.CASE_INSENSITIVE);
    private static final Pattern RFC_850 = Pattern.compile(
            LONG_DAY + ", ([0-9]{2})-" + MONTH + "-([0-9]{2}) " + TIME + " GMT", Pattern.CASE_INSENSITIVE);
    private static final Pattern ASCTIME = Pattern.compile(
            DAY + " " + MONTH + " ([0-9 ][0-9]) " + TIME + " ([0-9]{4})", Pattern.CASE_INSENSITIVE);
    private static final String MONTHS = "janfebmaraprmayjunjulaugsepoctnovdec";

    private RetryAfter() {
    }

    /** The hint carried by {@code headers}, relative to {@code clock.instant()}; empty when there is none. */
    public static Optional<Duration> from(HeaderLookup headers, Clock clock) {
        Objects.requireNonNull(clock, "clock");
        CharSequence millis = headers.get(RETRY_AFTER_MS);
        if (millis != null) {
            Optional<Duration> hint = parseMillis(millis);
            if (hint.isPresent()) {
                return hint;
            }
        }
        CharSequence value = headers.get(RETRY_AFTER);
        return value == null ? Optional.empty() : parseRetryAfter(value, clock.instant());
    }

    /** A {@code retry-after-ms} value: non-negative (possibly fractional) milliseconds. */
    public static Optional<Duration> parseMillis(CharSequence value) {
        return parseNumber(value, 1e-3);
    }

    /** A {@code Retry-After} value: (possibly fractional) delta-seconds, or an HTTP-date measured from {@code now}. */
    public static Optional<Duration> parseRetryAfter(CharSequence value, Instant now) {
        Optional<Duration> seconds = parseNumber(value, 1.0);
        if (seconds.isPresent()) {
            return seconds;
        }
        return parseHttpDate(value, now).map(at -> at.isAfter(now) ? clamp(Duration.between(now, at)) : Duration.ZERO);
    }

    /**
     * An HTTP-date in IMF-fixdate, RFC 850 or asctime form. {@code now} resolves RFC 850's two-digit year: per RFC
     * 9110 a year that would land more than 50 years in the future means the most recent past year with those digits.
     */
    public static Optional<Instant> parseHttpDate(CharSequence value, Instant now) {
        if (value == null) {
            return Optional.empty();
        }
        String s = value.toString().trim();
        try {
            Matcher m = IMF_FIXDATE.matcher(s);
            if (m.matches()) {
                return Optional.of(instant(Integer.parseInt(m.group(3)), m.group(2), m.group(1), m, 4));
            }
            m = RFC_850.matcher(s);
            if (m.matches()) {
                int nowYear = LocalDateTime.ofInstant(now, ZoneOffset.UTC).getYear();
                int year = nowYear - Math.floorMod(nowYear, 100) + Integer.parseInt(m.group(3));
                if (year > nowYear + 50) {
                    year -= 100;
                }
                return Optional.of(instant(year, m.group(2), m.group(1), m, 4));
            }
            m = ASCTIME.matcher(s);
            if (m.matches()) {
                return Optional.of(instant(Integer.parseInt(m.group(6)), m.group(1), m.group(2).trim(), m, 3));
            }
        } catch (DateTimeException e) {
            // matched the shape but not the calendar (Feb 30, hour 25): garbage, like any other
        }
        return Optional.empty();
    }

    private static Instant instant(int year, String month, String day, Matcher m, int timeGroup) {
        int monthNumber = MONTHS.indexOf(month.toLowerCase(Locale.ROOT)) / 3 + 1;
        int second = Integer.parseInt(m.group(timeGroup + 2));
        return LocalDateTime.of(year, monthNumber, Integer.parseInt(day), Integer.parseInt(m.group(timeGroup)),
                        Integer.parseInt(m.group(timeGroup + 1)), Math.min(second, 59)) // a leap second is ":60"
                .toInstant(ZoneOffset.UTC);
    }

    private static Optional<Duration> parseNumber(CharSequence value, double secondsPerUnit) {
        if (value == null) {
            return Optional.empty();
        }
        String s = value.toString().trim(); // surrounding whitespace is optional whitespace around a field value
        if (!NUMBER.matcher(s).matches()) {
            return Optional.empty();
        }
        double seconds = Double.parseDouble(s) * secondsPerUnit;
        if (!(seconds >= 0)) {
            return Optional.empty();
        }
        if (seconds >= MAX_HINT.getSeconds()) {
            return Optional.of(MAX_HINT);
        }
        long whole = (long) seconds;
        long nanos = Math.round((seconds - whole) * 1e9);
        return Optional.of(Duration.ofSeconds(whole, nanos));
    }

    private static Duration clamp(Duration d) {
        return d.compareTo(MAX_HINT) > 0 ? MAX_HINT : d;
    }
}

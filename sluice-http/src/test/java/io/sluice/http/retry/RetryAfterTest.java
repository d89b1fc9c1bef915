package io.sluice.http.retry;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RetryAfterTest {

    private static final Instant NOW = Instant.parse("2024-06-01T12:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    private static Duration hint(Map<String, String> headers) {
        return RetryAfter.from(HeaderLookup.of(headers), CLOCK).orElse(null);
    }

    @Test
    void retryAfterMsIsFloatMilliseconds() {
        assertThat(hint(Map.of("retry-after-ms", "1500"))).isEqualTo(Duration.ofMillis(1500));
        assertThat(hint(Map.of("retry-after-ms", "1500.5"))).isEqualTo(Duration.ofNanos(1_500_500_000));
        assertThat(hint(Map.of("retry-after-ms", "0.25"))).isEqualTo(Duration.ofNanos(250_000));
    }

    @Test
    void retryAfterMsWinsOverRetryAfter() {
        assertThat(hint(Map.of("retry-after-ms", "100", "Retry-After", "30"))).isEqualTo(Duration.ofMillis(100));
    }

    @Test
    void garbageRetryAfterMsFallsBackToRetryAfter() {
        assertThat(hint(Map.of("retry-after-ms", "soon", "Retry-After", "3"))).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void retryAfterDeltaSecondsIncludingFractionsAndWhitespace() {
        assertThat(hint(Map.of("Retry-After", "120"))).isEqualTo(Duration.ofSeconds(120));
        assertThat(hint(Map.of("Retry-After", "1.5"))).isEqualTo(Duration.ofMillis(1500));
        assertThat(hint(Map.of("Retry-After", " 7 "))).isEqualTo(Duration.ofSeconds(7));
        assertThat(hint(Map.of("Retry-After", "0"))).isEqualTo(Duration.ZERO);
        assertThat(hint(Map.of("Retry-After", "1e1"))).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void negativeAndGarbageNumbersAreEmpty() {
        for (String bad : List.of("-1", "abc", "NaN", "Infinity", "0x10", "5d", "1.5f", "", " ", "+5", "1,5", "--2")) {
            assertThat(RetryAfter.parseRetryAfter(bad, NOW)).as(bad).isEmpty();
            assertThat(RetryAfter.parseMillis(bad)).as(bad).isEmpty();
        }
        assertThat(RetryAfter.parseMillis(null)).isEmpty();
    }

    @Test
    void absurdlyLargeValuesAreClampedNotOverflowed() {
        assertThat(RetryAfter.parseRetryAfter("99999999999999999999999", NOW)).contains(RetryAfter.MAX_HINT);
        assertThat(RetryAfter.parseMillis("1e400")).contains(RetryAfter.MAX_HINT);
    }

    @Test
    void imfFixdateIsMeasuredFromNow() {
        assertThat(hint(Map.of("Retry-After", "Sat, 01 Jun 2024 12:00:30 GMT"))).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void obsoleteRfc850DateIsAccepted() {
        assertThat(hint(Map.of("Retry-After", "Saturday, 01-Jun-24 12:01:00 GMT"))).isEqualTo(Duration.ofMinutes(1));
    }

    @Test
    void rfc850TwoDigitYearMoreThanFiftyYearsAheadMeansThePast() {
        assertThat(RetryAfter.parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", NOW))
                .contains(Instant.parse("1994-11-06T08:49:37Z"));
        assertThat(RetryAfter.parseHttpDate("Monday, 06-Nov-73 08:49:37 GMT", NOW))
                .contains(Instant.parse("2073-11-06T08:49:37Z"));
        assertThat(RetryAfter.parseHttpDate("Monday, 06-Nov-75 08:49:37 GMT", NOW))
                .contains(Instant.parse("1975-11-06T08:49:37Z"));
    }

    @Test
    void asctimeDateIsAccepted() {
        assertThat(hint(Map.of("Retry-After", "Sat Jun  1 12:00:10 2024"))).isEqualTo(Duration.ofSeconds(10));
        assertThat(RetryAfter.parseHttpDate("Sun Nov  6 08:49:37 1994", NOW))
                .contains(Instant.parse("1994-11-06T08:49:37Z"));
        assertThat(RetryAfter.parseHttpDate("Sun Nov 16 08:49:37 1994", NOW))
                .contains(Instant.parse("1994-11-16T08:49:37Z"));
    }

    @Test
    void allThreeRfcExampleFormsDenoteTheSameInstant() {
        Instant expected = Instant.parse("1994-11-06T08:49:37Z");
        assertThat(RetryAfter.parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT", NOW)).contains(expected);
        assertThat(RetryAfter.parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", NOW)).contains(expected);
        assertThat(RetryAfter.parseHttpDate("Sun Nov  6 08:49:37 1994", NOW)).contains(expected);
    }

    @Test
    void dateInThePastMeansNoWait() {
        assertThat(hint(Map.of("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT"))).isEqualTo(Duration.ZERO);
    }

    @Test
    void malformedDatesAreEmpty() {
        for (String bad : List.of("Fri, 31 Feb 2024 12:00:00 GMT", "Sat, 01 Jun 2024 12:00:30 UTC",
                "Sat, 1 Jun 2024 12:00:30 GMT", "Sat, 01 Jun 2024 25:00:00 GMT", "2024-06-01T12:00:30Z",
                "Sat, 01 Foo 2024 12:00:30 GMT")) {
            assertThat(RetryAfter.parseRetryAfter(bad, NOW)).as(bad).isEmpty();
        }
    }

    @Test
    void dateNamesAreMatchedCaseInsensitively() {
        assertThat(hint(Map.of("Retry-After", "sat, 01 JUN 2024 12:00:05 gmt"))).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void leapSecondIsReadAsTheSecondBefore() {
        assertThat(RetryAfter.parseHttpDate("Sat, 01 Jun 2024 12:00:60 GMT", NOW))
                .contains(Instant.parse("2024-06-01T12:00:59Z"));
    }

    @Test
    void noHeadersNoHint() {
        assertThat(RetryAfter.from(HeaderLookup.none(), CLOCK)).isEmpty();
    }

    @Test
    void nettyHeaderTypesFitAsMethodReferences() {
        DefaultHttpHeaders h1 = new DefaultHttpHeaders();
        h1.add("Retry-After", "4");
        assertThat(RetryAfter.from(h1::get, CLOCK)).contains(Duration.ofSeconds(4));
        DefaultHttp2Headers h2 = new DefaultHttp2Headers();
        h2.add("retry-after-ms", "40");
        assertThat(RetryAfter.from(h2::get, CLOCK)).contains(Duration.ofMillis(40));
    }

    @Test
    void multiValuedLookupUsesTheFirstValue() {
        HeaderLookup lookup = HeaderLookup.ofMultiValued(Map.of("RETRY-AFTER", List.of("2", "9")));
        assertThat(RetryAfter.from(lookup, CLOCK)).contains(Duration.ofSeconds(2));
    }
}

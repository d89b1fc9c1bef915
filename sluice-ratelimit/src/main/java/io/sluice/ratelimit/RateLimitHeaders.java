package io.sluice.ratelimit;

import io.sluice.http.Headers;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the rate-limit headers AI providers send into a {@link RateLimitSnapshot}:
 *
 * <ul>
 *   <li>OpenAI: {@code x-ratelimit-limit-requests}, {@code x-ratelimit-remaining-requests},
 *   {@code x-ratelimit-reset-requests} (a duration such as {@code 6m0s}, {@code 1s}, {@code 20ms},
 *   {@code 1h2m3.5s}), and the same with {@code -tokens}.</li>
 *   <li>Anthropic: {@code anthropic-ratelimit-requests-limit/-remaining/-reset} (RFC 3339 instants), and
 *   {@code anthropic-ratelimit-tokens-*} (the most restrictive of the token limits), or, without it,
 *   {@code -input-tokens-*} (what a request's estimate is mostly made of).</li>
 *   <li>The IETF draft (draft-ietf-httpapi-ratelimit-headers): {@code RateLimit-Policy: "p";q=100;w=60} with
 *   {@code RateLimit: "p";r=42;t=30}, and the earlier {@code RateLimit-Limit}/{@code -Remaining}/{@code -Reset}
 *   (delta seconds); counted as requests.</li>
 *   <li>{@code retry-after} (delta seconds or an HTTP date) and {@code retry-after-ms}.</li>
 * </ul>
 *
 * A malformed value is ignored (as if absent), never an error: a provider's odd header must not fail a call.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
public final class RateLimitHeaders {

    /** OpenAI's durations: {@code 1h2m3.5s}, {@code 6m0s}, {@code 20ms}, {@code 0.5s}. */
    private static final Pattern GO_DURATION = Pattern.compile(
            "(?:(\\d+(?:\\.\\d+)?)h)?(?:(\\d+(?:\\.\\d+)?)m(?!s))?(?:(\\d+(?:\\.\\d+)?)s)?(?:(\\d+(?:\\.\\d+)?)ms)?");
    private static final Pattern DRAFT_PARAM = Pattern.compile(";\\s*([a-z]+)\\s*=\\s*(\\d+)");

    /**
     * The furthest ahead a reset or retry-after is taken to be: a provider's or a proxy's absurd value (years, or
     * more seconds than a long holds in nanoseconds) must not overflow the arithmetic and so disable the block.
     */
    static final Duration MAX_HORIZON = Duration.ofDays(7);

    private RateLimitHeaders() {
    }

    private static Instant clamp(Instant at, Instant now) {
        return at == null || !at.isAfter(now.plus(MAX_HORIZON)) ? at : now.plus(MAX_HORIZON);
    }

    /** The limits {@code headers} announce, with relative times taken from {@code now}. */
    public static RateLimitSnapshot parse(Headers headers, Instant now) {
        long reqLimit = number(headers.get("x-ratelimit-limit-requests"));
        long reqRemaining = number(headers.get("x-ratelimit-remaining-requests"));
        Instant reqReset = after(now, duration(headers.get("x-ratelimit-reset-requests")));
        long tokLimit = number(headers.get("x-ratelimit-limit-tokens"));
        long tokRemaining = number(headers.get("x-ratelimit-remaining-tokens"));
        Instant tokReset = after(now, duration(headers.get("x-ratelimit-reset-tokens")));

        if (reqLimit < 0 && reqRemaining < 0) {
            reqLimit = number(headers.get("anthropic-ratelimit-requests-limit"));
            reqRemaining = number(headers.get("anthropic-ratelimit-requests-remaining"));
            reqReset = instant(headers.get("anthropic-ratelimit-requests-reset"));
        }
        if (tokLimit < 0 && tokRemaining < 0) {
            String prefix = headers.contains("anthropic-ratelimit-tokens-remaining") ? "anthropic-ratelimit-tokens-"
                    : "anthropic-ratelimit-input-tokens-";
            tokLimit = number(headers.get(prefix + "limit"));
            tokRemaining = number(headers.get(prefix + "remaining"));
            tokReset = instant(headers.get(prefix + "reset"));
        }
        boolean windowed = false;
        if (reqLimit < 0 && reqRemaining < 0) {
            windowed = true; // the draft promises nothing between resets: a fixed window is the safe reading
            // IETF draft: RateLimit-Policy: "default";q=100;w=60  RateLimit: "default";r=42;t=30
            String policy = headers.get("ratelimit-policy");
            String state = headers.get("ratelimit");
            if (state != null) {
                reqLimit = draftParam(policy, "q");
                reqRemaining = draftParam(state, "r");
                long t = draftParam(state, "t");
                reqReset = t >= 0 ? now.plusSeconds(t) : null;
            } else {
                // the earlier draft: RateLimit-Limit: 100, RateLimit-Remaining: 42, RateLimit-Reset: 30
                reqLimit = number(first(headers.get("ratelimit-limit")));
                reqRemaining = number(headers.get("ratelimit-remaining"));
                long t = number(headers.get("ratelimit-reset"));
                reqReset = t >= 0 ? now.plusSeconds(t) : null;
            }
        }
        Duration retry = retryAfter(headers, now);
        return new RateLimitSnapshot(reqLimit, reqRemaining, clamp(reqReset, now), tokLimit, tokRemaining,
                clamp(tokReset, now), retry == null || retry.compareTo(MAX_HORIZON) <= 0 ? retry : MAX_HORIZON,
                windowed && reqRemaining >= 0);
    }

    /** {@code retry-after-ms}, else {@code retry-after} (seconds or an HTTP date); null when absent or malformed. */
    static Duration retryAfter(Headers headers, Instant now) {
        String ms = headers.get("retry-after-ms");
        if (ms != null) {
            try {
                double v = Double.parseDouble(ms.trim());
                if (v >= 0) {
                    return Duration.ofNanos((long) (Math.min(v, MAX_HORIZON.toMillis()) * 1_000_000));
                }
            } catch (NumberFormatException ignored) {
                // fall through to retry-after
            }
        }
        String v = headers.get("retry-after");
        if (v == null) {
            return null;
        }
        long seconds = number(v);
        if (seconds >= 0) {
            return Duration.ofSeconds(Math.min(seconds, MAX_HORIZON.toSeconds()));
        }
        try {
            Instant at = ZonedDateTime.parse(v.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            return at.isAfter(now) ? Duration.between(now, at) : Duration.ZERO;
        } catch (DateTimeException e) {
            return null;
        }
    }

    /** A non-negative integer, or -1. */
    static long number(String v) {
        if (v == null) {
            return -1;
        }
        try {
            long n = Long.parseLong(v.trim());
            return n >= 0 ? n : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** OpenAI's duration grammar ({@code 1h2m3.5s}, {@code 6m0s}, {@code 20ms}); null when absent or malformed. */
    static Duration duration(String v) {
        if (v == null || v.isBlank()) {
            return null;
        }
        Matcher m = GO_DURATION.matcher(v.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            return null;
        }
        double seconds = 0;
        boolean any = false;
        double[] unit = {3600, 60, 1, 0.001};
        for (int g = 1; g <= 4; g++) {
            if (m.group(g) != null) {
                seconds += Double.parseDouble(m.group(g)) * unit[g - 1];
                any = true;
            }
        }
        return any ? Duration.ofNanos((long) (seconds * 1e9)) : null;
    }

    /** An RFC 3339 instant; null when absent or malformed. */
    static Instant instant(String v) {
        if (v == null) {
            return null;
        }
        try {
            return OffsetDateTime.parse(v.trim()).toInstant();
        } catch (DateTimeException e) {
            return null;
        }
    }

    private static Instant after(Instant now, Duration d) {
        return d == null ? null : now.plus(d);
    }

    /** {@code 100, 100;w=60} → {@code 100}: the first value of a list. */
    private static String first(String v) {
        if (v == null) {
            return null;
        }
        int cut = v.indexOf(',');
        int semi = v.indexOf(';');
        int end = cut < 0 ? semi : semi < 0 ? cut : Math.min(cut, semi);
        return end < 0 ? v : v.substring(0, end);
    }

    private static long draftParam(String field, String name) {
        if (field == null) {
            return -1;
        }
        Matcher m = DRAFT_PARAM.matcher(field.toLowerCase(Locale.ROOT));
        while (m.find()) {
            if (m.group(1).equals(name)) {
                return number(m.group(2));
            }
        }
        return -1;
    }
}

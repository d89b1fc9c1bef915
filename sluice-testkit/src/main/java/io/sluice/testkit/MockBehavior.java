package io.sluice.testkit;

import io.netty.handler.codec.http.HttpHeaders;

/**
 * How the mock answers a request: token count, delays and injected faults.
 *
 * <p>A server holds one default {@code MockBehavior} (see {@link MockOptions#behavior()} and
 * {@link MockProvider#behavior(MockBehavior)}); each request may override any field with the
 * matching {@code x-mock-*} header ({@link #withHeaders(HttpHeaders)}). A negative value means
 * "off" for the fault fields. Immutable and thread-safe.
 *
 * @param tokens             tokens per completion ({@code x-mock-tokens})
 * @param delayMs            delay before the response head ({@code x-mock-delay-ms})
 * @param tokenDelayMs       delay between streamed tokens ({@code x-mock-token-delay-ms})
 * @param status             status to answer with; 0 or 200 means a normal answer, 400..599 an
 *                           error with the provider's error JSON ({@code x-mock-status})
 * @param retryAfterMs       value of {@code retry-after-ms} (and rounded-up seconds in
 *                           {@code retry-after}) on 429/503/529 ({@code x-mock-retry-after-ms})
 * @param shouldRetry        value of the {@code x-should-retry} response header, or null to omit it
 *                           ({@code x-mock-should-retry})
 * @param errorAfterTokens   emit the provider's SSE error event after this many tokens and end the
 *                           stream; -1 off ({@code x-mock-error-after-tokens})
 * @param closeAfterBytes    close the connection after this many response body bytes; -1 off
 *                           ({@code x-mock-close-after-bytes})
 * @param resetAfterTokens   HTTP/2: RST_STREAM(CANCEL) after this many tokens; HTTP/1.1: the
 *                           connection is closed instead; -1 off ({@code x-mock-reset-after-tokens})
 * @param goAwayAfterStreams HTTP/2: send GOAWAY once a connection has accepted this many streams;
 *                           0 off ({@code x-mock-goaway-after-streams})
 * @param blackhole          read the request and never answer ({@code x-mock-blackhole})
 * @param malformed          a deliberately broken response ({@code x-mock-malformed})
 * @param slowHeadersMs      HTTP/1.1: write the response head one byte at a time with this delay
 *                           between bytes; 0 off; ignored on HTTP/2 ({@code x-mock-slow-headers-ms})
 * @param refuseStream       refuse the request before processing it: HTTP/2 RST_STREAM(REFUSED_STREAM),
 *                           HTTP/1.1 close the connection without a response byte
 *                           ({@code x-mock-refuse-stream})
 * @param resetConnectionAfterBytes reset the TCP connection (SO_LINGER 0, an RST) after this many
 *                           response body bytes; -1 off ({@code x-mock-reset-connection-after-bytes})
 * @param barrier            hold the response until this many requests of the same group have arrived
 *                           (see {@link MockBarrier}); null off ({@code x-mock-barrier: GROUP:PARTIES},
 *                           deadline {@code x-mock-barrier-timeout-ms})
 */
public record MockBehavior(
        int tokens,
        long delayMs,
        long tokenDelayMs,
        int status,
        long retryAfterMs,
        Boolean shouldRetry,
        int errorAfterTokens,
        long closeAfterBytes,
        int resetAfterTokens,
        int goAwayAfterStreams,
        boolean blackhole,
        Malformation malformed,
        long slowHeadersMs,
        boolean refuseStream,
        long resetConnectionAfterBytes,
        MockBarrier barrier) {

    /** Header names of the per-request knobs. */
    public static final String H_TOKENS = "x-mock-tokens";
    public static final String H_DELAY_MS = "x-mock-delay-ms";
    public static final String H_TOKEN_DELAY_MS = "x-mock-token-delay-ms";
    public static final String H_STATUS = "x-mock-status";
    public static final String H_RETRY_AFTER_MS = "x-mock-retry-after-ms";
    public static final String H_SHOULD_RETRY = "x-mock-should-retry";
    public static final String H_ERROR_AFTER_TOKENS = "x-mock-error-after-tokens";
    public static final String H_CLOSE_AFTER_BYTES = "x-mock-close-after-bytes";
    public static final String H_RESET_AFTER_TOKENS = "x-mock-reset-after-tokens";
    public static final String H_GOAWAY_AFTER_STREAMS = "x-mock-goaway-after-streams";
    public static final String H_BLACKHOLE = "x-mock-blackhole";
    public static final String H_MALFORMED = "x-mock-malformed";
    public static final String H_SLOW_HEADERS_MS = "x-mock-slow-headers-ms";
    public static final String H_REFUSE_STREAM = "x-mock-refuse-stream";
    public static final String H_RESET_CONNECTION_AFTER_BYTES = "x-mock-reset-connection-after-bytes";
    public static final String H_BARRIER = "x-mock-barrier";
    public static final String H_BARRIER_TIMEOUT_MS = "x-mock-barrier-timeout-ms";

    /** Largest accepted token count; keeps a typo from producing gigabytes. */
    public static final int MAX_TOKENS = 1_000_000;

    /** Validates ranges. */
    public MockBehavior {
        requireRange("tokens", tokens, 0, MAX_TOKENS);
        requireRange("delayMs", delayMs, 0, Long.MAX_VALUE);
        requireRange("tokenDelayMs", tokenDelayMs, 0, Long.MAX_VALUE);
        if (status != 0 && status != 200 && (status < 400 || status > 599)) {
            throw new IllegalArgumentException("status must be 200 or 400..599, got " + status);
        }
        requireRange("retryAfterMs", retryAfterMs, 0, Long.MAX_VALUE);
        requireRange("errorAfterTokens", errorAfterTokens, -1, MAX_TOKENS);
        requireRange("closeAfterBytes", closeAfterBytes, -1, Long.MAX_VALUE);
        requireRange("resetAfterTokens", resetAfterTokens, -1, MAX_TOKENS);
        requireRange("goAwayAfterStreams", goAwayAfterStreams, 0, Integer.MAX_VALUE);
        requireRange("slowHeadersMs", slowHeadersMs, 0, 60_000);
        requireRange("resetConnectionAfterBytes", resetConnectionAfterBytes, -1, Long.MAX_VALUE);
        if (malformed == null) {
            malformed = Malformation.NONE;
        }
    }

    /** The defaults: 16 tokens, no delays, no faults, retry-after 1000 ms. */
    public static MockBehavior defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder initialised from this behaviour. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * The body byte count after which the connection is cut (closed or reset, whichever knob has the
     * lower limit), or -1 when neither knob is set.
     */
    public long cutAfterBytes() {
        if (closeAfterBytes < 0) {
            return resetConnectionAfterBytes;
        }
        return resetConnectionAfterBytes < 0 ? closeAfterBytes : Math.min(closeAfterBytes, resetConnectionAfterBytes);
    }

    /** True when the cut at {@link #cutAfterBytes()} is a TCP reset rather than an orderly close. */
    public boolean cutIsReset() {
        return resetConnectionAfterBytes >= 0 && (closeAfterBytes < 0 || resetConnectionAfterBytes <= closeAfterBytes);
    }

    /** True when the status field asks for an error answer. */
    public boolean isErrorStatus() {
        return status >= 400;
    }

    /**
     * This behaviour with every {@code x-mock-*} header present in {@code headers} applied.
     *
     * @throws IllegalArgumentException with a message naming the header when a value is malformed or
     *                                  out of range
     */
    public MockBehavior withHeaders(HttpHeaders headers) {
        if (!hasMockHeader(headers)) {
            return this;
        }
        Builder b = toBuilder();
        String v;
        if ((v = headers.get(H_TOKENS)) != null) b.tokens(parseInt(H_TOKENS, v));
        if ((v = headers.get(H_DELAY_MS)) != null) b.delayMs(parseLong(H_DELAY_MS, v));
        if ((v = headers.get(H_TOKEN_DELAY_MS)) != null) b.tokenDelayMs(parseLong(H_TOKEN_DELAY_MS, v));
        if ((v = headers.get(H_STATUS)) != null) b.status(parseInt(H_STATUS, v));
        if ((v = headers.get(H_RETRY_AFTER_MS)) != null) b.retryAfterMs(parseLong(H_RETRY_AFTER_MS, v));
        if ((v = headers.get(H_SHOULD_RETRY)) != null) b.shouldRetry(parseBoolean(H_SHOULD_RETRY, v));
        if ((v = headers.get(H_ERROR_AFTER_TOKENS)) != null) b.errorAfterTokens(parseInt(H_ERROR_AFTER_TOKENS, v));
        if ((v = headers.get(H_CLOSE_AFTER_BYTES)) != null) b.closeAfterBytes(parseLong(H_CLOSE_AFTER_BYTES, v));
        if ((v = headers.get(H_RESET_AFTER_TOKENS)) != null) b.resetAfterTokens(parseInt(H_RESET_AFTER_TOKENS, v));
        if ((v = headers.get(H_GOAWAY_AFTER_STREAMS)) != null) b.goAwayAfterStreams(parseInt(H_GOAWAY_AFTER_STREAMS, v));
        if ((v = headers.get(H_BLACKHOLE)) != null) b.blackhole(parseBoolean(H_BLACKHOLE, v));
        if ((v = headers.get(H_MALFORMED)) != null) b.malformed(parseMalformation(v));
        if ((v = headers.get(H_SLOW_HEADERS_MS)) != null) b.slowHeadersMs(parseLong(H_SLOW_HEADERS_MS, v));
        if ((v = headers.get(H_REFUSE_STREAM)) != null) b.refuseStream(parseBoolean(H_REFUSE_STREAM, v));
        if ((v = headers.get(H_RESET_CONNECTION_AFTER_BYTES)) != null) {
            b.resetConnectionAfterBytes(parseLong(H_RESET_CONNECTION_AFTER_BYTES, v));
        }
        String timeout = headers.get(H_BARRIER_TIMEOUT_MS);
        long barrierTimeout = timeout != null ? parseLong(H_BARRIER_TIMEOUT_MS, timeout)
                : barrier != null ? barrier.timeoutMs() : MockBarrier.DEFAULT_TIMEOUT_MS;
        if ((v = headers.get(H_BARRIER)) != null) {
            b.barrier(parseBarrier(v, barrierTimeout));
        } else if (timeout != null && barrier != null) {
            b.barrier(parseBarrier(barrier.headerValue(), barrierTimeout));
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid x-mock-* header: " + e.getMessage(), e);
        }
    }

    private static boolean hasMockHeader(HttpHeaders headers) {
        // Most requests carry no knob; one scan beats thirteen lookups on the hot path.
        for (var it = headers.iteratorCharSequence(); it.hasNext(); ) {
            CharSequence name = it.next().getKey();
            if (name.length() > 7 && (name.charAt(0) == 'x' || name.charAt(0) == 'X')
                    && name.toString().regionMatches(true, 0, "x-mock-", 0, 7)) {
                return true;
            }
        }
        return false;
    }

    private static MockBarrier parseBarrier(String v, long timeoutMs) {
        try {
            return MockBarrier.parse(v, timeoutMs);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid " + H_BARRIER + " header: " + e.getMessage(), e);
        }
    }

    private static Malformation parseMalformation(String v) {
        try {
            return Malformation.parse(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid " + H_MALFORMED + " header: " + e.getMessage(), e);
        }
    }

    private static int parseInt(String header, String v) {
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid " + header + " header: '" + v + "' is not an integer", e);
        }
    }

    private static long parseLong(String header, String v) {
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid " + header + " header: '" + v + "' is not an integer", e);
        }
    }

    private static boolean parseBoolean(String header, String v) {
        String t = v.trim();
        if (t.equalsIgnoreCase("true")) return true;
        if (t.equalsIgnoreCase("false")) return false;
        throw new IllegalArgumentException("invalid " + header + " header: '" + v + "' is not true or false");
    }

    private static void requireRange(String name, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(name + " must be in [" + min + ", " + max + "], got " + value);
        }
    }

    /** Mutable builder; not thread-safe, confine to one thread. */
    public static final class Builder {
        private int tokens = 16;
        private long delayMs;
        private long tokenDelayMs;
        private int status;
        private long retryAfterMs = 1000;
        private Boolean shouldRetry;
        private int errorAfterTokens = -1;
        private long closeAfterBytes = -1;
        private int resetAfterTokens = -1;
        private int goAwayAfterStreams;
        private boolean blackhole;
        private Malformation malformed = Malformation.NONE;
        private long slowHeadersMs;
        private boolean refuseStream;
        private long resetConnectionAfterBytes = -1;
        private MockBarrier barrier;

        private Builder() {
        }

        private Builder(MockBehavior b) {
            tokens = b.tokens;
            delayMs = b.delayMs;
            tokenDelayMs = b.tokenDelayMs;
            status = b.status;
            retryAfterMs = b.retryAfterMs;
            shouldRetry = b.shouldRetry;
            errorAfterTokens = b.errorAfterTokens;
            closeAfterBytes = b.closeAfterBytes;
            resetAfterTokens = b.resetAfterTokens;
            goAwayAfterStreams = b.goAwayAfterStreams;
            blackhole = b.blackhole;
            malformed = b.malformed;
            slowHeadersMs = b.slowHeadersMs;
            refuseStream = b.refuseStream;
            resetConnectionAfterBytes = b.resetConnectionAfterBytes;
            barrier = b.barrier;
        }

        public Builder tokens(int v) { tokens = v; return this; }
        public Builder delayMs(long v) { delayMs = v; return this; }
        public Builder tokenDelayMs(long v) { tokenDelayMs = v; return this; }
        public Builder status(int v) { status = v; return this; }
        public Builder retryAfterMs(long v) { retryAfterMs = v; return this; }
        public Builder shouldRetry(Boolean v) { shouldRetry = v; return this; }
        public Builder errorAfterTokens(int v) { errorAfterTokens = v; return this; }
        public Builder closeAfterBytes(long v) { closeAfterBytes = v; return this; }
        public Builder resetAfterTokens(int v) { resetAfterTokens = v; return this; }
        public Builder goAwayAfterStreams(int v) { goAwayAfterStreams = v; return this; }
        public Builder blackhole(boolean v) { blackhole = v; return this; }
        public Builder malformed(Malformation v) { malformed = v; return this; }
        public Builder slowHeadersMs(long v) { slowHeadersMs = v; return this; }
        public Builder refuseStream(boolean v) { refuseStream = v; return this; }
        public Builder resetConnectionAfterBytes(long v) { resetConnectionAfterBytes = v; return this; }
        public Builder barrier(MockBarrier v) { barrier = v; return this; }

        /** @throws IllegalArgumentException when a value is out of range */
        public MockBehavior build() {
            return new MockBehavior(tokens, delayMs, tokenDelayMs, status, retryAfterMs, shouldRetry,
                    errorAfterTokens, closeAfterBytes, resetAfterTokens, goAwayAfterStreams, blackhole,
                    malformed, slowHeadersMs, refuseStream, resetConnectionAfterBytes, barrier);
        }
    }
}

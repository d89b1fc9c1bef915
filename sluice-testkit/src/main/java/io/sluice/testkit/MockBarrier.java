package io.sluice.testkit;

/**
 * A request's place in a barrier: the mock holds the response of every request naming the same
 * {@code group} until {@code parties} of them have arrived (across all connections of one server),
 * then answers all of them; if the group is not complete within {@code timeoutMs} of its first
 * arrival, the waiting requests are answered anyway and the server counts a barrier timeout
 * ({@link MockStats#barrierTimeouts()}). Lets a load test make "N streams open at once" a fact of
 * the server rather than a race against the machine's speed.
 *
 * <p>Set per request with {@code x-mock-barrier: GROUP:PARTIES} and optionally
 * {@code x-mock-barrier-timeout-ms}. Immutable and thread-safe.
 *
 * @param group     the barrier's name; requests with the same name wait for each other
 * @param parties   how many requests complete the barrier (at least 1)
 * @param timeoutMs how long after the group's first arrival the waiting requests are released anyway
 */
public record MockBarrier(String group, int parties, long timeoutMs) {

    /** Long enough for 10 000 streams to open on a slow, loaded two-core machine. */
    public static final long DEFAULT_TIMEOUT_MS = 60_000;

    /** Largest accepted party count: bounds what one group can hold in memory. */
    public static final int MAX_PARTIES = 1_000_000;

    public MockBarrier {
        if (group == null || group.isBlank()) {
            throw new IllegalArgumentException("barrier group must not be empty");
        }
        if (parties < 1 || parties > MAX_PARTIES) {
            throw new IllegalArgumentException("barrier parties must be in [1, " + MAX_PARTIES + "], got " + parties);
        }
        if (timeoutMs < 1) {
            throw new IllegalArgumentException("barrier timeout must be at least 1 ms, got " + timeoutMs);
        }
    }

    /**
     * Parses the header value {@code GROUP:PARTIES}.
     *
     * @throws IllegalArgumentException naming the expected form when {@code value} does not match it
     */
    public static MockBarrier parse(String value, long timeoutMs) {
        String v = value.trim();
        int colon = v.lastIndexOf(':');
        if (colon <= 0 || colon == v.length() - 1) {
            throw new IllegalArgumentException("expected GROUP:PARTIES, got '" + value + "'");
        }
        int parties;
        try {
            parties = Integer.parseInt(v.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected GROUP:PARTIES with an integer count, got '" + value + "'", e);
        }
        return new MockBarrier(v.substring(0, colon), parties, timeoutMs);
    }

    /** The header value that selects this barrier. */
    public String headerValue() {
        return group + ":" + parties;
    }
}

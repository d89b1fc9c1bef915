package io.sluice.http;

import java.util.Map;

/**
 * What happened on one route besides plain successes: connections taken out of the pool
 * by passive detection (counted by reason), the transport's replays (by kind), failures
 * that reached callers (by error type), and outlier ejections.
 *
 * <p><b>Thread-safety:</b> immutable snapshot.
 *
 * @param connectionsBroken connections found unusable between requests, by reason:
 *                          {@code goaway} (the peer sent GOAWAY), {@code closed} (the peer
 *                          closed the connection or an I/O error closed it), {@code other}
 *                          (a protocol error, a PING that timed out, stream ids exhausted)
 * @param replays           transport replays, by kind: {@code goaway_unprocessed},
 *                          {@code refused_stream}, {@code stale_connection}
 * @param failures          failures handed to callers, by exception simple name
 * @param ejections         times the route was ejected by outlier detection
 * @param ejected           whether the route is ejected now
 */
public record RouteCounters(Map<String, Long> connectionsBroken, Map<String, Long> replays,
        Map<String, Long> failures, int ejections, boolean ejected) {

    /** One line for a log: only what happened (empty counts are left out), "no events" when nothing did. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        append(b, "broken", connectionsBroken);
        append(b, "replays", replays);
        append(b, "failures", failures);
        if (ejections > 0) {
            b.append(b.length() == 0 ? "" : ", ").append("ejections ").append(ejections);
        }
        if (ejected) {
            b.append(b.length() == 0 ? "" : ", ").append("ejected now");
        }
        return b.length() == 0 ? "no events" : b.toString();
    }

    private static void append(StringBuilder b, String label, Map<String, Long> counts) {
        if (counts == null || counts.isEmpty()) {
            return;
        }
        b.append(b.length() == 0 ? "" : ", ").append(label).append(' ').append(new java.util.TreeMap<>(counts));
    }
}

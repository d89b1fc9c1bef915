package io.sluice.http;

/**
 * TLS handshake counters of a client since it started.
 *
 * <p><b>Thread-safety:</b> immutable.
 *
 * @param fullHandshakes     handshakes that negotiated a new session
 * @param resumedHandshakes  handshakes that resumed a cached session (ticket or session id)
 * @param failedHandshakes   handshakes that failed
 * @param fullNanosTotal     summed duration of the full handshakes
 * @param resumedNanosTotal  summed duration of the resumed handshakes
 */
public record TlsStats(long fullHandshakes, long resumedHandshakes, long failedHandshakes, long fullNanosTotal,
                       long resumedNanosTotal) {

    /** Mean full-handshake time in nanoseconds, 0 when none. */
    public double meanFullNanos() {
        return fullHandshakes == 0 ? 0 : (double) fullNanosTotal / fullHandshakes;
    }

    /** Mean resumed-handshake time in nanoseconds, 0 when none. */
    public double meanResumedNanos() {
        return resumedHandshakes == 0 ? 0 : (double) resumedNanosTotal / resumedHandshakes;
    }
}

package io.sluice.cli.soak;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The faults a soak injects. Server-wide faults act on the mock ({@link #serverWide()}); the others
 * are one request carrying the mock's {@code x-mock-*} knob, whose failure is expected.
 *
 * <p><b>Thread-safety:</b> immutable enum.
 */
public enum Fault {
    /** Every connection reset (SO_LINGER 0), no GOAWAY. */
    KILL("kill", true),
    /** Graceful GOAWAY on every HTTP/2 connection: open streams finish, new ones go elsewhere. */
    GOAWAY("goaway", true),
    /** GOAWAY, then the sockets close at once, cutting open streams. */
    GOAWAY_ABRUPT("goaway-abrupt", true),
    /** The server restarts on the same ports after a short downtime. */
    RESTART("restart", true),
    /** A streamed response whose connection closes after a few body bytes. */
    CLOSE_AFTER_BYTES("close-after-bytes", false),
    /** A streamed response whose connection is reset (TCP RST) after a few body bytes. */
    RESET("reset", false),
    /** HTTP/2 RST_STREAM(CANCEL) mid-stream (HTTP/1.1: the connection closes). */
    STREAM_RESET("stream-reset", false),
    /** A request refused unprocessed (RST_STREAM REFUSED_STREAM); the client replays it. */
    REFUSE_STREAM("refuse-stream", false),
    /** 429 with a short retry-after, after the client's status retries. */
    STATUS_429("429", false),
    /** 503 with a short retry-after, after the client's status retries. */
    STATUS_503("503", false),
    /** A request never answered, with a short headers timeout. */
    BLACKHOLE("blackhole", false),
    /** A response with broken chunked coding (HTTP/2: partial body, RST_STREAM PROTOCOL_ERROR). */
    MALFORMED("malformed", false);

    private final String cliName;
    private final boolean serverWide;

    Fault(String cliName, boolean serverWide) {
        this.cliName = cliName;
        this.serverWide = serverWide;
    }

    /** The name used on the command line and in reports. */
    public String cliName() {
        return cliName;
    }

    /** True when the fault acts on the whole server rather than on one request. */
    public boolean serverWide() {
        return serverWide;
    }

    /**
     * Parses {@code all}, {@code none} or a comma-separated list of fault names.
     *
     * @throws IllegalArgumentException naming the unknown fault and listing the known ones
     */
    public static Set<Fault> parseList(String spec) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("all")) {
            return EnumSet.allOf(Fault.class);
        }
        if (s.equals("none") || s.isEmpty()) {
            return EnumSet.noneOf(Fault.class);
        }
        Set<Fault> out = EnumSet.noneOf(Fault.class);
        for (String name : s.split(",")) {
            String n = name.trim();
            out.add(Arrays.stream(values()).filter(f -> f.cliName.equals(n)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("unknown fault '" + n + "'; known: all, none, "
                            + Arrays.stream(values()).map(Fault::cliName).collect(Collectors.joining(", ")))));
        }
        return out;
    }
}

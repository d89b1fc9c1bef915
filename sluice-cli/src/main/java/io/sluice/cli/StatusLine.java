package io.sluice.cli;

import java.io.PrintStream;

/**
 * A status line that suits where it goes: on a terminal it is rewritten in place with {@code \r}
 * as often as it changes; anywhere else (a file, a pipe, a CI log) it is printed as a plain line
 * at most once every {@code plainEveryNanos}, so a log gets a readable record rather than
 * thousands of carriage returns.
 *
 * <p><b>Thread-safety:</b> its methods are synchronized; one instance per line being shown.
 */
public final class StatusLine {
    private final PrintStream out;
    private final boolean interactive;
    private final long plainEveryNanos;
    private int lastWidth;
    private long lastPlainNanos = Long.MIN_VALUE;
    private String pending;

    /**
     * @param out             where the line goes (stderr, normally)
     * @param terminal        whether {@code out} is a terminal
     * @param plainEveryNanos at most one plain line per this many nanoseconds when not a terminal
     */
    public StatusLine(PrintStream out, Terminal terminal, long plainEveryNanos) {
        this.out = out;
        this.interactive = terminal.interactive();
        this.plainEveryNanos = plainEveryNanos;
    }

    /** Shows {@code line}: at once on a terminal, when the interval has passed otherwise. */
    public synchronized void update(String line, long nowNanos) {
        if (interactive) {
            StringBuilder sb = new StringBuilder("\r").append(line);
            for (int i = line.length(); i < lastWidth; i++) {
                sb.append(' ');
            }
            lastWidth = line.length();
            out.print(sb);
            out.flush();
            return;
        }
        if (lastPlainNanos == Long.MIN_VALUE || nowNanos - lastPlainNanos >= plainEveryNanos) {
            out.println(line);
            out.flush();
            lastPlainNanos = nowNanos;
            pending = null;
        } else {
            pending = line;
        }
    }

    /**
     * Ends the line: {@code last} is shown (on a terminal, then a newline; elsewhere as a plain
     * line, so the final state is always in the log), and the next {@link #update} starts afresh.
     */
    public synchronized void end(String last) {
        String line = last != null ? last : pending;
        if (interactive) {
            if (line != null) {
                update(line, 0);
            }
            if (lastWidth > 0) {
                out.print('\n');
            }
        } else if (line != null) {
            out.println(line);
        }
        out.flush();
        lastWidth = 0;
        lastPlainNanos = Long.MIN_VALUE;
        pending = null;
    }
}

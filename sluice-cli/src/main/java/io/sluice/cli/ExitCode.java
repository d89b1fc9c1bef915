package io.sluice.cli;

/**
 * The exit codes of every {@code sluice} command, the same for all of them so that scripts can
 * tell a broken command line from an unreachable server. Listed in {@code sluice --help} and the
 * README.
 *
 * <p>Constants only.
 */
public final class ExitCode {
    /** Everything asked for was done (bench: every criterion passed; probe: a response arrived). */
    public static final int OK = 0;
    /**
     * The run completed but its verdict is negative: a bench criterion not met, a soak invariant
     * broken, a probe answered with a non-2xx status under {@code --fail}.
     */
    public static final int NOT_MET = 1;
    /** The command line is wrong: an unknown option, a bad value, a file that is not there. */
    public static final int USAGE = 2;
    /** The command could not do its job: target unreachable, TLS failure, I/O error, port in use. */
    public static final int RUNTIME = 3;

    /** The text {@code --help} shows under "Exit codes". */
    static final String[] HELP = {
        "0:Success.",
        "1:Run completed, verdict negative (bench criterion not met, soak invariant broken, probe --fail on a non-2xx status).",
        "2:Usage error (bad option or value).",
        "3:Runtime error (target unreachable, TLS or I/O failure, port in use)."
    };

    private ExitCode() {
    }
}

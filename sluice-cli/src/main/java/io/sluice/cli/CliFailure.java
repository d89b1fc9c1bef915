package io.sluice.cli;

/**
 * A command could not do its job for a reason outside the command line (an unreachable target, a
 * port in use, a file that cannot be written). {@link SluiceCli} prints its message as one line,
 * {@code sluice <command>: <message>}, and exits with {@link #exitCode()}; no stack trace, since
 * the message says everything a user can act on.
 *
 * <p>Immutable.
 */
public final class CliFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int exitCode;

    private CliFailure(String message, Throwable cause, int exitCode) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    /** Exit code 3: the target, the network or the file system failed. */
    public static CliFailure runtime(String message, Throwable cause) {
        return new CliFailure(message, cause, ExitCode.RUNTIME);
    }

    /** Exit code 2: a value that parsed but cannot be used (a missing file, an unusable URL). */
    public static CliFailure usage(String message) {
        return new CliFailure(message, null, ExitCode.USAGE);
    }

    int exitCode() {
        return exitCode;
    }
}

package io.sluice.cli.soak;

import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * How one soak request ended, as the report counts it: {@code ok}, an HTTP status class for an
 * error status ({@code status_4xx}, {@code status_5xx}), or the simple name of the exception.
 * Immutable.
 *
 * @param type       {@link #OK}, a status class or an exception's simple name
 * @param unexpected true for programming errors (a {@code NullPointerException} from the client is
 *                   a defect whatever fault was injected), which break the soak's invariants
 * @param detail     the exception's message, for the report's samples; empty when ok
 */
public record Outcome(String type, boolean unexpected, String detail) {
    public static final String OK = "ok";

    private static final Set<Class<? extends Throwable>> DEFECTS = Set.of(NullPointerException.class,
            ClassCastException.class, IndexOutOfBoundsException.class, UnsupportedOperationException.class,
            IllegalMonitorStateException.class, AssertionError.class, StackOverflowError.class);

    public static Outcome ok() {
        return new Outcome(OK, false, "");
    }

    /** An error status after the client's own status retries. */
    public static Outcome status(int status) {
        return new Outcome("status_" + status / 100 + "xx", false, "HTTP " + status);
    }

    /** A failure, unwrapped from the future wrappers. */
    public static Outcome failure(Throwable t) {
        Throwable c = unwrap(t);
        boolean defect = DEFECTS.stream().anyMatch(d -> d.isInstance(c));
        return new Outcome(c.getClass().getSimpleName(), defect, String.valueOf(c.getMessage()));
    }

    public boolean isOk() {
        return OK.equals(type);
    }

    static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }
}

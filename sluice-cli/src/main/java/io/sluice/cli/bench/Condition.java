package io.sluice.cli.bench;

/**
 * One condition of a {@link Criterion}: what it requires, what was measured, and whether that met it.
 * A criterion passes when all of its conditions are met; the unmet ones are its machine-readable
 * reasons for failing ({@code failed_conditions} in the JSON report).
 *
 * <p><b>Thread-safety:</b> immutable.
 *
 * @param id       stable id for JSON ({@code all_open_at_once}, {@code no_failed_requests}, ...)
 * @param expected the requirement as text, e.g. {@code ">= 10000 streams open at once at the server"}
 * @param actual   the measured value (a number or a short text)
 * @param met      whether {@code actual} meets {@code expected}
 */
public record Condition(String id, String expected, Object actual, boolean met) {

    /** The condition as the report's one line: {@code "<expected>: got <actual>"}. */
    public String describe() {
        return expected + ": got " + (actual instanceof Number n ? Num.grouped(n) : String.valueOf(actual));
    }
}

package io.sluice.cli;

import java.util.Map;

/**
 * Where the output goes, decided once per run: whether stderr/stdout is a person's terminal (so
 * progress may rewrite its line with {@code \r}) and whether colour is welcome (a terminal, and
 * {@code NO_COLOR} unset, as <a href="https://no-color.org">no-color.org</a> asks; {@code TERM=dumb}
 * also turns it off). Redirected output gets plain lines.
 *
 * <p>Immutable; thread-safe.
 *
 * @param interactive the output is a terminal
 * @param colour      ANSI colours may be used
 */
public record Terminal(boolean interactive, boolean colour) {
    /** Plain output: no {@code \r} rewriting, no colour (files, pipes, CI logs, tests). */
    public static final Terminal PLAIN = new Terminal(false, false);

    /** The terminal this process runs in, from {@link System#console()} and the environment. */
    public static Terminal detect() {
        return detect(System.console() != null, System.getenv());
    }

    /** The rules of {@link #detect()} for a given console state and environment; for tests. */
    public static Terminal detect(boolean console, Map<String, String> env) {
        String noColor = env.get("NO_COLOR");
        boolean colour = console && (noColor == null || noColor.isEmpty()) && !"dumb".equals(env.get("TERM"));
        return new Terminal(console, colour);
    }

    /** {@code text} in green when colour is on. */
    public String green(String text) {
        return paint("32", text);
    }

    /** {@code text} in red when colour is on. */
    public String red(String text) {
        return paint("31", text);
    }

    /** {@code text} in yellow when colour is on. */
    public String yellow(String text) {
        return paint("33", text);
    }

    private String paint(String code, String text) {
        return colour ? "\u001b[" + code + "m" + text + "\u001b[0m" : text;
    }
}

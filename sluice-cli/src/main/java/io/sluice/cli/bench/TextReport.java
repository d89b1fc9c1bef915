package io.sluice.cli.bench;

import io.sluice.cli.Terminal;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;

/**
 * The human-readable report: the criteria table (target, measured, PASS/FAIL, and for a failed row
 * the conditions it did not meet), then each phase's key numbers and notes. PASS is green and FAIL
 * red when the {@link Terminal} allows colour.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
public final class TextReport {
    private TextReport() {
    }

    public static void write(BenchReport report, PrintWriter out) {
        write(report, out, Terminal.PLAIN);
    }

    public static void write(BenchReport report, PrintWriter out, Terminal terminal) {
        out.println();
        out.println("Sluice bench — " + report.environment().get("target"));
        out.printf(Locale.ROOT, "%s, %s CPUs, %s, %s mode, %.1f s%n", report.environment().get("os"),
                report.environment().get("cpus"), report.environment().get("java"), report.environment().get("mode"),
                report.durationMillis() / 1000.0);
        out.println();
        out.println(table(report, terminal));
        for (PhaseResult p : report.phases()) {
            out.printf(Locale.ROOT, "%s (%s, %.1f s)%n", p.title(), p.id(), p.durationMillis() / 1000.0);
            if (p.skipped() != null) {
                out.println("  skipped: " + p.skipped());
            }
            for (Map.Entry<String, Object> e : p.metrics().entrySet()) {
                if (e.getValue() != null && !(e.getValue() instanceof java.util.List<?> l && l.size() > 3)) {
                    out.println("  " + e.getKey() + ": " + e.getValue());
                }
            }
            Object decisions = p.metrics().get("decisions");
            if (decisions instanceof java.util.List<?> l) {
                for (Object d : l) {
                    if (d instanceof Map<?, ?> m && !"HOLD".equals(m.get("action"))) {
                        out.printf(Locale.ROOT, "    %5.1f s  %-5s  %-6s %s -> %s  (mean wait %s ms, utilisation %s)%n",
                                ((Number) m.get("at_s")).doubleValue(), m.get("spell"), m.get("action"), m.get("from"),
                                m.get("to"),
                                m.get("mean_wait_ms"), m.get("utilisation"));
                    }
                }
            }
            for (String n : p.notes()) {
                out.println("  note: " + n);
            }
            out.println();
        }
        out.printf(Locale.ROOT, "errors: %d   result: %s%n", report.errors(),
                report.allPass() ? terminal.green("all criteria PASS") : terminal.red("NOT all criteria pass"));
        out.flush();
    }

    /** The criteria as a Markdown table, without colour. */
    public static String table(BenchReport report) {
        return table(report, Terminal.PLAIN);
    }

    /** The criteria as a Markdown table; the verdicts coloured when {@code terminal} allows it. */
    public static String table(BenchReport report, Terminal terminal) {
        StringBuilder sb = new StringBuilder();
        sb.append("| Criterion | Target | Measured | Result |\n|---|---|---|---|\n");
        for (Criterion c : report.criteria()) {
            String verdict = c.pass() == null ? terminal.yellow(c.verdict())
                    : c.pass() ? terminal.green(c.verdict()) : terminal.red(c.verdict());
            sb.append("| ").append(c.name()).append(" | ").append(c.target()).append(" | ")
                    .append(c.measuredWithReasons()).append(" | ").append(verdict).append(" |\n");
        }
        return sb.toString();
    }
}

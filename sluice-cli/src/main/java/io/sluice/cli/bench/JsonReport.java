package io.sluice.cli.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * The {@code --json} report: {@code {"schema_version":1, "errors":…, "all_pass":…,
 * "criteria":[{"id","name","target","measured","pass","failed_conditions":[{"id","expected","actual"}…]}…],
 * "phases":{id:{…}}, "environment":{…}, "duration_ms":…}}. {@code pass} is true, false, or null for
 * a skipped criterion; {@code failed_conditions} lists why a criterion failed (empty otherwise).
 * {@link #SCHEMA_VERSION} changes when a field is removed or changes meaning; new fields may appear
 * within a version.
 *
 * <p><b>Thread-safety:</b> stateless (the mapper is thread-safe).
 */
public final class JsonReport {
    /** The layout's version; see the class comment and docs/benchmarks.md. */
    public static final int SCHEMA_VERSION = 1;

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private JsonReport() {
    }

    public static ObjectNode tree(BenchReport report) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("schema_version", SCHEMA_VERSION);
        root.put("errors", report.errors());
        root.put("all_pass", report.allPass());
        ArrayNode criteria = root.putArray("criteria");
        for (Criterion c : report.criteria()) {
            ObjectNode n = criteria.addObject();
            n.put("id", c.id());
            n.put("name", c.name());
            n.put("target", c.target());
            n.put("measured", c.measured());
            if (c.pass() == null) {
                n.putNull("pass");
            } else {
                n.put("pass", c.pass());
            }
            ArrayNode failed = n.putArray("failed_conditions");
            for (Condition u : c.unmet()) {
                ObjectNode f = failed.addObject();
                f.put("id", u.id());
                f.put("expected", u.expected());
                f.set("actual", MAPPER.valueToTree(u.actual()));
            }
        }
        ObjectNode phases = root.putObject("phases");
        for (PhaseResult p : report.phases()) {
            ObjectNode n = phases.putObject(p.id());
            n.put("title", p.title());
            n.put("duration_ms", p.durationMillis());
            n.put("errors", p.errors());
            if (p.skipped() != null) {
                n.put("skipped", p.skipped());
            }
            for (Map.Entry<String, Object> e : p.metrics().entrySet()) {
                n.set(e.getKey(), MAPPER.valueToTree(e.getValue()));
            }
            if (!p.notes().isEmpty()) {
                n.set("notes", MAPPER.valueToTree(p.notes()));
            }
        }
        root.set("environment", MAPPER.valueToTree(report.environment()));
        root.put("duration_ms", report.durationMillis());
        return root;
    }

    public static String write(BenchReport report) {
        try {
            return MAPPER.writeValueAsString(tree(report));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}

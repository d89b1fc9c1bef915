package io.sluice.cli.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * The {@code --json} report: {@code {"errors":…, "criteria":[{"id","name","target","measured","pass"}…],
 * "phases":{id:{…}}, "environment":{…}, "duration_ms":…}}. {@code pass} is true, false, or null for
 * a skipped criterion.
 *
 * <p><b>Thread-safety:</b> stateless (the mapper is thread-safe).
 */
public final class JsonReport {
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private JsonReport() {
    }

    public static ObjectNode tree(BenchReport report) {
        ObjectNode root = MAPPER.createObjectNode();
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

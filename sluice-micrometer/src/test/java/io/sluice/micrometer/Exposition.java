package io.sluice.micrometer;

import io.prometheus.metrics.expositionformats.PrometheusProtobufWriter;
import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_36_2.Metrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A scrape as Prometheus reads it: written in the Prometheus protobuf format by the client's own writer and
 * read back with the client's own generated protobuf classes (the 1.10 client has no text parser), so a
 * wrong type, a malformed name or a duplicate series fails here as it would in Prometheus.
 */
final class Exposition {

    private Exposition() {
    }

    static List<Metrics.MetricFamily> scrape(PrometheusRegistry registry) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            new PrometheusProtobufWriter().write(out, registry.scrape());
            List<Metrics.MetricFamily> families = new ArrayList<>();
            InputStream in = new ByteArrayInputStream(out.toByteArray());
            Metrics.MetricFamily f;
            while ((f = Metrics.MetricFamily.parseDelimitedFrom(in)) != null) {
                families.add(f);
            }
            return families;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static Metrics.MetricFamily family(List<Metrics.MetricFamily> families, String name) {
        return families.stream().filter(f -> f.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no family " + name + " in " + names(families)));
    }

    static Set<String> names(List<Metrics.MetricFamily> families) {
        return families.stream().map(Metrics.MetricFamily::getName).collect(Collectors.toCollection(TreeSet::new));
    }

    static Map<String, String> labels(Metrics.Metric m) {
        Map<String, String> out = new LinkedHashMap<>();
        m.getLabelList().forEach(l -> out.put(l.getName(), l.getValue()));
        return out;
    }

    /** The samples of {@code name} whose labels include {@code match}. */
    static List<Metrics.Metric> samples(List<Metrics.MetricFamily> families, String name, String... match) {
        List<Metrics.Metric> out = new ArrayList<>();
        for (Metrics.Metric m : family(families, name).getMetricList()) {
            Map<String, String> l = labels(m);
            boolean ok = true;
            for (int i = 0; i < match.length; i += 2) {
                ok &= match[i + 1].equals(l.get(match[i]));
            }
            if (ok) {
                out.add(m);
            }
        }
        return out;
    }

    /** One documented metric: its exposition name, type and label names. */
    record Documented(String name, String type, Set<String> labels) {
    }

    private static final Pattern ROW = Pattern.compile("^\\| `([a-z_]+)` \\| (counter|gauge|histogram) \\|\\s*[a-z]*\\s*\\| ?([a-z, ]*?) ?\\|");

    /** The table of every metric in docs/metrics.md, by exposition name (counters with _total). */
    static Map<String, Documented> documented() {
        Path doc = Path.of("..", "docs", "metrics.md");
        Map<String, Documented> out = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(doc)) {
                Matcher m = ROW.matcher(line);
                if (m.find()) {
                    String name = m.group(1);
                    String type = m.group(2);
                    Set<String> labels = new TreeSet<>(Arrays.stream(m.group(3).split(",")).map(String::trim)
                            .filter(s -> !s.isEmpty()).toList());
                    out.put(name, new Documented(name, type, labels));
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return out;
    }
}

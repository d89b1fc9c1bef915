package io.sluice.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.PrintStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Runs the whole bench engine once, small, against the embedded mock, and checks the three reports.
 * The numbers are not asserted against the seed's targets here (a loaded CI machine may miss them);
 * what is checked is that every criterion is there and that the reports carry the run's numbers.
 */
class BenchRunnerTest {
    static final List<String> IDS = List.of("memory", "hit_rate", "acquire_latency", "h2_streams", "tls_handshake",
            "adaptive_scaling", "health_checks", "load_10k");
    static BenchReport report;

    @BeforeAll
    static void runSmall() {
        BenchOptions o = BenchOptions.defaults().withLoad(1000, 32).withTls(3, 10).withMemory(20, 40, 100)
                .withStreams(500, 10, 2, 10)
                .withScaling(Duration.ofMillis(500), Duration.ofMillis(2500), Duration.ofMillis(2500))
                .withHealth(Duration.ofSeconds(2)).withProgress(false);
        report = new BenchRunner(o, new PrintStream(new ByteArrayOutputStream())).run();
    }

    @Test
    void everyCriterionHasARowAndThePhasesRan() {
        assertThat(report.criteria()).extracting(Criterion::id).containsExactlyElementsOf(IDS);
        assertThat(report.criteria()).extracting(Criterion::name).containsExactly("Memory Usage", "Connection Reuse",
                "Latency (acquisition)", "HTTP/2 Support", "TLS Performance", "Adaptive Scaling", "Health Checks",
                "10K concurrent");
        for (PhaseResult p : report.phases()) {
            assertThat(p.metrics()).as(p.id()).doesNotContainKey("phase_error");
        }
        assertThat(report.phase("acquire").number("ok")).isEqualTo(1000);
        assertThat(report.phase("streams").number("ok")).isEqualTo(500);
        assertThat(report.phase("streams").number("max_streams_one_connection")).isGreaterThanOrEqualTo(1);
        assertThat(report.phase("tls_handshake").metrics().get("resumed").toString()).contains("count=10");
        PhaseResult memory = report.phase("memory");
        assertThat(memory.metrics().get("native_measured")).isEqualTo(true);
        @SuppressWarnings("unchecked")
        java.util.Map<String, Object> step = (java.util.Map<String, Object>) memory.metrics().get("native_step");
        assertThat(step.get("nmt")).as("the JVM's own share came from NMT").isEqualTo(true);
        // the steps' targets; a checkout that waits for its validation may open one more (counted as opened)
        assertThat(((Number) step.get("from_connections")).longValue()).isBetween(40L, 41L);
        assertThat(((Number) step.get("to_connections")).longValue()).as("maxConnections is the largest step").isEqualTo(100L);
        assertThat(memory.metrics().get("native_bytes_per_100")).isInstanceOf(Number.class);
        // 500 streams are not 10 000: that row must say FAIL, never PASS
        assertThat(report.criterion("load_10k").pass()).isFalse();
        assertThat(report.criterion("load_10k").unmet()).extracting(Condition::id).contains("streams_started")
                .doesNotContain("barrier_completed");
        // The mock's barrier held every head until all 500 were open at the server at once.
        assertThat(report.phase("streams").number("barrier_timeouts")).isZero();
        assertThat(report.phase("streams").number("max_streams_overall")).isEqualTo(500);
        assertThat(report.allPass()).isFalse();
        StringBuilder table = new StringBuilder(TextReport.table(report));
        assertThat(table).contains("| Memory Usage |").contains("| 10K concurrent |");
    }

    @Test
    void jsonHasTheAgreedShape() throws Exception {
        JsonNode root = new ObjectMapper().readTree(JsonReport.write(report));
        assertThat(root.get("errors").isNumber()).isTrue();
        assertThat(root.get("schema_version").asInt()).isEqualTo(JsonReport.SCHEMA_VERSION);
        List<String> ids = new ArrayList<>();
        for (JsonNode c : root.get("criteria")) {
            ids.add(c.get("id").asText());
            assertThat(c.has("name") && c.has("target") && c.has("measured") && c.has("pass")).isTrue();
            assertThat(c.get("pass").isBoolean() || c.get("pass").isNull()).isTrue();
            assertThat(c.get("failed_conditions").isArray()).isTrue();
            assertThat(c.get("failed_conditions").isEmpty()).isEqualTo(!c.get("pass").isBoolean() || c.get("pass").asBoolean());
        }
        assertThat(ids).containsExactlyElementsOf(IDS);
        assertThat(root.get("phases").fieldNames()).toIterable().contains("tls_handshake", "memory", "acquire",
                "streams", "scaling", "health");
        assertThat(root.at("/phases/acquire/hit_rate").asDouble()).isEqualTo(report.phase("acquire").number("hit_rate"));
    }

    @Test
    void htmlIsSelfContainedAndItsChartsCarryTheRunsNumbers() throws Exception {
        String html = HtmlReport.render(report);
        assertThat(html).doesNotContain("<script").doesNotContain("src=\"http").doesNotContain("href=\"http")
                .doesNotContain("@import").doesNotContain("url(");
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        Document doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(html.getBytes(StandardCharsets.UTF_8)));

        Element hist = chart(doc, "acquire-wait-histogram");
        LatencyStats waits = report.phase("acquire").acquireWaits();
        assertThat(hist.getAttribute("data-count")).isEqualTo(Long.toString(waits.count()));
        // The histogram draws the acquire calls the phase timed (the pool's own waits are mostly 0).
        assertThat(Double.parseDouble(hist.getAttribute("data-p99-ms")))
                .isEqualTo(Num.ms((long) report.phase("acquire").number("acquire_call_p99_ns")));
        long barTotal = 0;
        NodeList rects = hist.getElementsByTagNameNS("http://www.w3.org/2000/svg", "rect");
        for (int i = 0; i < rects.getLength(); i++) {
            barTotal += Long.parseLong(((Element) rects.item(i)).getAttribute("data-count"));
        }
        assertThat(barTotal).isEqualTo(waits.count());

        Element streams = chart(doc, "latency-streams");
        double p99 = report.phase("streams").number("ttle_p99_ms");
        assertThat(streams.getTextContent()).contains("p99 " + HtmlReport.fmt(p99) + " ms");
        assertThat(hasPoint(streams, "99", p99)).isTrue();

        Element tls = chart(doc, "latency-tls_handshake");
        assertThat(tls.getTextContent()).contains("p50 " + HtmlReport.fmt(report.phase("tls_handshake")
                .number("resumed_p50_ms")) + " ms");

        Element scaling = chart(doc, "series-scaling-pool");
        double maxAfterBurst = report.phase("scaling").number("max_after_burst");
        NodeList lines = scaling.getElementsByTagNameNS("http://www.w3.org/2000/svg", "polyline");
        double drawnMax = 0;
        for (int i = 0; i < lines.getLength(); i++) {
            Element l = (Element) lines.item(i);
            if (l.getAttribute("data-line").equals("max connections")) {
                drawnMax = Double.parseDouble(l.getAttribute("data-max"));
            }
        }
        assertThat(drawnMax).isGreaterThanOrEqualTo(maxAfterBurst);
        assertThat(chart(doc, "series-streams-connections")).isNotNull();

        NodeList rows = doc.getElementsByTagNameNS("http://www.w3.org/1999/xhtml", "tr");
        List<String> rowIds = new ArrayList<>();
        for (int i = 0; i < rows.getLength(); i++) {
            String id = ((Element) rows.item(i)).getAttribute("data-id");
            if (!id.isEmpty()) {
                rowIds.add(id);
            }
        }
        assertThat(rowIds).containsExactlyElementsOf(IDS);
    }

    private static boolean hasPoint(Element chart, String percentile, double ms) {
        NodeList dots = chart.getElementsByTagNameNS("http://www.w3.org/2000/svg", "circle");
        for (int i = 0; i < dots.getLength(); i++) {
            Element d = (Element) dots.item(i);
            if (d.getAttribute("data-percentile").equals(percentile)
                    && Double.parseDouble(d.getAttribute("data-ms")) == ms) {
                return true;
            }
        }
        return false;
    }

    private static Element chart(Document doc, String name) {
        NodeList svgs = doc.getElementsByTagNameNS("http://www.w3.org/2000/svg", "svg");
        for (int i = 0; i < svgs.getLength(); i++) {
            Element e = (Element) svgs.item(i);
            if (e.getAttribute("data-chart").equals(name)) {
                return e;
            }
        }
        throw new AssertionError("no chart " + name);
    }
}

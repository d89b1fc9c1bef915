package io.sluice.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The HTML report's charts as a reader would judge them: an acquire histogram of sub-microsecond
 * to millisecond values spread over a log axis (not one full-width bar), a pool size of 10 to 30
 * drawn on its own axis beside thousands of streams (not 2 px steps), and the scaler's decisions
 * and the injected faults marked where they happened.
 */
class HtmlReportTest {
    private static final String SVG = "http://www.w3.org/2000/svg";

    private static Document render(PhaseResult... phases) throws Exception {
        BenchReport report = new BenchReport(Map.of("target", "t", "os", "o", "cpus", 2, "java", "j", "mode", "m"),
                List.of(), List.of(phases), 0, 1);
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(HtmlReport.render(report)
                .getBytes(StandardCharsets.UTF_8)));
    }

    private static Element chart(Document doc, String name) {
        NodeList svgs = doc.getElementsByTagNameNS(SVG, "svg");
        for (int i = 0; i < svgs.getLength(); i++) {
            Element e = (Element) svgs.item(i);
            if (e.getAttribute("data-chart").equals(name)) {
                return e;
            }
        }
        throw new AssertionError("no chart " + name);
    }

    private static List<Element> all(Element parent, String tag) {
        NodeList l = parent.getElementsByTagNameNS(SVG, tag);
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < l.getLength(); i++) {
            out.add((Element) l.item(i));
        }
        return out;
    }

    @Test
    void acquireHistogramSpreadsNanosecondsOverALogAxis() throws Exception {
        LatencyStats calls = new LatencyStats();
        for (int i = 0; i < 9_000; i++) {
            calls.record(300 + i % 700);       // 300 ns .. 1 µs
        }
        for (int i = 0; i < 900; i++) {
            calls.record(5_000 + i * 10);      // 5 .. 14 µs
        }
        for (int i = 0; i < 10; i++) {
            calls.record(1_000_000);           // 1 ms
        }
        PhaseResult p = new PhaseResult("acquire", "acquire");
        p.acquireWaits(calls);
        Element hist = chart(render(p), "acquire-wait-histogram");
        assertThat(hist.getAttribute("data-axis")).isEqualTo("log-ns");
        List<Element> bars = all(hist, "rect").stream().filter(r -> Long.parseLong(r.getAttribute("data-count")) > 0)
                .toList();
        // Three clusters, three places: no single bar holds them all.
        assertThat(bars.size()).isGreaterThanOrEqualTo(3);
        long total = all(hist, "rect").stream().mapToLong(r -> Long.parseLong(r.getAttribute("data-count"))).sum();
        assertThat(total).isEqualTo(calls.count());
        double widest = bars.stream().mapToDouble(r -> Double.parseDouble(r.getAttribute("width"))).max().orElseThrow();
        assertThat(widest).as("no full-width bar").isLessThan(200);
        // The bars are placed by log10 of their bounds: the 1 ms bar is right of the µs ones.
        double xNs = x(bars, 100, 1_000);
        double xUs = x(bars, 5_000, 20_000);
        double xMs = x(bars, 500_000, 2_000_000);
        assertThat(xNs).isLessThan(xUs);
        assertThat(xUs).isLessThan(xMs);
        List<String> ticks = all(hist, "text").stream().filter(t -> !t.getAttribute("data-tick-ns").isEmpty())
                .map(Element::getTextContent).toList();
        assertThat(ticks).contains("1.00 µs", "10.0 µs", "100 µs", "1.00 ms");
        assertThat(hist.getTextContent()).contains("p50").contains("ns");
    }

    private static double x(List<Element> bars, long from, long to) {
        return bars.stream().filter(r -> Long.parseLong(r.getAttribute("data-low-ns")) >= from
                        && Long.parseLong(r.getAttribute("data-high-ns")) <= to)
                .mapToDouble(r -> Double.parseDouble(r.getAttribute("x"))).findFirst()
                .orElseThrow(() -> new AssertionError("no bar in [" + from + ", " + to + ")"));
    }

    @Test
    void smallLinesGetTheirOwnAxisBesideThousands() throws Exception {
        TimeSeries s = new TimeSeries("streams-connections", "Connections and open streams",
                List.of("open connections", "streams open (client)"));
        for (int t = 0; t <= 50; t++) {
            s.add(t / 10.0, Math.min(20, t), Math.min(10_000, t * 400));
        }
        PhaseResult p = new PhaseResult("streams", "streams");
        p.series(s);
        Element chart = chart(render(p), "series-streams-connections");
        assertThat(chart.getAttribute("data-panels")).isEqualTo("2");
        Element small = all(chart, "polyline").stream().filter(l -> l.getAttribute("data-line").equals("open connections"))
                .findFirst().orElseThrow();
        Element panel = (Element) small.getParentNode();
        double top = Double.parseDouble(panel.getAttribute("data-top"));
        double bottom = Double.parseDouble(panel.getAttribute("data-bottom"));
        double minY = Double.MAX_VALUE;
        double maxY = 0;
        for (String pt : small.getAttribute("points").split(" ")) {
            double y = Double.parseDouble(pt.split(",")[1]);
            minY = Math.min(minY, y);
            maxY = Math.max(maxY, y);
        }
        // 0 → 20 connections spans most of its own panel (on the streams' axis it was 2 px).
        assertThat((maxY - minY) / (bottom - top)).isGreaterThan(0.5);
        assertThat(panel.getAttribute("data-y-max")).isEqualTo("20");
    }

    @Test
    void scalerDecisionsAndFaultsAreMarkedOnTheTimeAxis() throws Exception {
        TimeSeries size = new TimeSeries("scaling-pool", "Pool size", List.of("max connections", "open connections"));
        for (int t = 0; t <= 60; t++) {
            size.add(t / 10.0, 10 + t / 10, 8);
        }
        PhaseResult scaling = new PhaseResult("scaling", "scaling");
        scaling.series(size);
        scaling.metric("decisions", List.of(decision(1.0, "GROW", 10, 12), decision(2.0, "HOLD", 12, 12),
                decision(4.5, "SHRINK", 12, 10)));
        TimeSeries conns = new TimeSeries("health-connections", "Connections", List.of("open connections"));
        for (int t = 0; t <= 30; t++) {
            conns.add(t / 10.0, 10);
        }
        PhaseResult health = new PhaseResult("health", "health");
        health.series(conns);
        Map<String, Object> fault = new LinkedHashMap<>();
        fault.put("at_s", 0.75);
        fault.put("action", "kill connections (TCP reset)");
        health.metric("faults", List.of(fault));
        Document doc = render(scaling, health);

        List<Element> events = marks(chart(doc, "series-scaling-pool"));
        assertThat(events).extracting(e -> e.getAttribute("data-event")).containsExactly("GROW 10→12", "SHRINK 12→10");
        assertThat(events).extracting(e -> e.getAttribute("data-at-s")).containsExactly("1", "4.5");
        // The marker sits where the time axis puts 4.5 s: the same scale as the lines.
        double x45 = Double.parseDouble(all(events.get(1), "line").get(0).getAttribute("x1"));
        assertThat(x45).isBetween(60 + 4.5 / 6.0 * (640 - 60 - 20) - 1, 60 + 4.5 / 6.0 * (640 - 60 - 20) + 1);
        assertThat(marks(chart(doc, "series-health-connections"))).extracting(e -> e.getAttribute("data-event"))
                .containsExactly("kill connections (TCP reset)");
    }

    private static Map<String, Object> decision(double at, String action, int from, int to) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("at_s", at);
        m.put("action", action);
        m.put("from", from);
        m.put("to", to);
        return m;
    }

    private static List<Element> marks(Element chart) {
        return all(chart, "g").stream().filter(g -> !g.getAttribute("data-event").isEmpty()).toList();
    }
}

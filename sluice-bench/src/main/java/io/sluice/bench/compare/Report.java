package io.sluice.bench.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Tables, the memory arithmetic and the machine description for {@link CompareMain}. */
final class Report {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Report() {
    }

    static ObjectNode machine() {
        ObjectNode m = JSON.createObjectNode();
        m.put("nproc", Runtime.getRuntime().availableProcessors());
        String cpu = "unknown";
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    cpu = l.substring(l.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (Exception ignored) {
            // not Linux
        }
        m.put("cpu", cpu);
        m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        try {
            m.put("loadavg", Files.readString(Path.of("/proc/loadavg")).trim());
        } catch (Exception ignored) {
            // not Linux
        }
        return m;
    }

    /**
     * Per-connection memory from the steps: heap slope (live objects) between the first two non-zero
     * steps (100 and 1000 by default), native slope between the last two (1000 and 5000): RSS minus the
     * JVM's own committed native memory by Native Memory Tracking (the heap, fixed and pre-touched, the
     * JIT's code cache and arenas, which move RSS by megabytes between readings, and class metadata; thread
     * stacks and direct buffers stay charged to the client), or RSS alone when
     * a step has no NMT reading. Divided by the connections the server saw open, not by the targets.
     */
    static ObjectNode memoryResult(ObjectNode child, ArrayNode openAtStep, long accepted) {
        ArrayNode steps = (ArrayNode) child.get("steps");
        ObjectNode r = JSON.createObjectNode();
        r.set("client", child.get("client"));
        r.set("protocol", child.get("protocol"));
        ArrayNode targets = r.putArray("targets");
        ArrayNode open = r.putArray("connections_open");
        ArrayNode heap = r.putArray("heap_bytes");
        ArrayNode rss = r.putArray("rss_bytes");
        ArrayNode jvm = r.putArray("jvm_native_bytes");
        ArrayNode libraries = r.putArray("native_bytes");
        boolean nmt = true;
        for (int i = 0; i < steps.size(); i++) {
            nmt &= steps.get(i).path("jvm_native_bytes").asLong(-1) >= 0;
        }
        for (int i = 0; i < steps.size(); i++) {
            targets.add(steps.get(i).path("target").asInt());
            open.add(openAtStep.path(i).asLong());
            heap.add(steps.get(i).path("heap_bytes").asLong());
            rss.add(steps.get(i).path("rss_bytes").asLong());
            jvm.add(steps.get(i).path("jvm_native_bytes").asLong(-1));
            libraries.add(steps.get(i).path("rss_bytes").asLong()
                    - (nmt ? steps.get(i).path("jvm_native_bytes").asLong() : 0));
        }
        r.put("native_method", nmt ? "RSS - JVM native (NMT)" : "RSS");
        int n = steps.size();
        // index 0 is the baseline before any connection; 1 and 2 are the first two steps
        r.put("heap_per_connection_bytes", slope(heap, open, 1, 2));
        r.put("native_per_connection_bytes", slope(libraries, open, n - 2, n - 1));
        double h = r.path("heap_per_connection_bytes").asDouble(Double.NaN);
        double nat = r.path("native_per_connection_bytes").asDouble(Double.NaN);
        if (!Double.isNaN(h) && !Double.isNaN(nat)) {
            r.put("total_per_connection_bytes", Math.round(h + nat));
        } else {
            r.putNull("total_per_connection_bytes");
        }
        r.put("connections", accepted);
        r.set("errors", child.get("errors"));
        r.set("first_error", child.get("first_error"));
        r.set("config", child.get("config"));
        return r;
    }

    private static JsonNode slope(ArrayNode v, ArrayNode open, int a, int b) {
        long dc = open.path(b).asLong() - open.path(a).asLong();
        if (dc <= 0) {
            return JSON.nullNode();
        }
        return JSON.getNodeFactory().numberNode(Math.round((double) (v.path(b).asLong() - v.path(a).asLong()) / dc));
    }

    /**
     * One row for several runs of a client: the median of each of requests/s, p50, p99 and CPU per request
     * (each on its own), the other fields from the run with the median requests/s, the errors summed, and
     * every run's requests/s and p99 under {@code rps_runs} and {@code p99_ms_runs}.
     */
    static ObjectNode median(List<ObjectNode> runs) {
        List<ObjectNode> byRps = new ArrayList<>(runs);
        byRps.sort(java.util.Comparator.comparingDouble(r -> r.path("rps").asDouble()));
        ObjectNode m = byRps.get(byRps.size() / 2).deepCopy();
        for (String k : List.of("rps", "p50_ms", "p99_ms", "cpu_us_per_request", "alloc_bytes_per_request")) {
            if (!runs.get(0).has(k)) {
                continue;
            }
            double[] v = runs.stream().mapToDouble(r -> r.path(k).asDouble()).sorted().toArray();
            double med = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
            m.put(k, Math.round(med * 1000) / 1000.0);
        }
        m.put("errors", runs.stream().mapToLong(r -> r.path("errors").asLong()).sum());
        ArrayNode rps = m.putArray("rps_runs");
        ArrayNode p99 = m.putArray("p99_ms_runs");
        for (ObjectNode r : runs) {
            rps.add(r.path("rps").asDouble());
            p99.add(r.path("p99_ms").asDouble());
        }
        m.put("runs", runs.size());
        return m;
    }

    static String throughputTable(JsonNode doc) {
        StringBuilder sb = new StringBuilder();
        String target = doc.path("target").asText("mock");
        boolean mock = target.equals("mock");
        sb.append(String.format(Locale.ROOT, "Throughput: %d requests per client, %d in flight, POST %s over TLS%s%n",
                doc.path("requests").asLong(), doc.path("concurrency").asInt(), mock ? Workload.PATH + " (mock provider)" : target,
                doc.path("repeat").asInt(1) > 1 ? "; median of " + doc.path("repeat").asInt() + " interleaved rounds"
                        + (mock ? ", each client against a fresh mock" : "") : ""));
        if (!mock) {
            sb.append("conns: sockets each client held at the end of its run\n");
        }
        sb.append(String.format(Locale.ROOT, "%-26s %-6s %5s %11s %8s %8s %11s %9s %6s %9s %7s%n",
                "client", "proto", "conc", "requests/s", "p50 ms", "p99 ms", "CPU us/req", "alloc/req", "conns", "heap MiB",
                "errors"));
        JsonNode bestPeer = null;
        JsonNode bestP99 = null;
        JsonNode sluice = null;
        for (JsonNode r : doc.path("results")) {
            String c = r.path("client").asText();
            long alloc = r.path("alloc_bytes_per_request").asLong(-1);
            sb.append(String.format(Locale.ROOT, "%-26s %-6s %5d %11.0f %8.2f %8.2f %11.1f %9s %6d %9s %7d%n",
                    c, r.path("protocol").asText(), r.path("concurrency").asInt(), r.path("rps").asDouble(),
                    r.path("p50_ms").asDouble(), r.path("p99_ms").asDouble(), r.path("cpu_us_per_request").asDouble(),
                    alloc < 0 ? "-" : String.format(Locale.ROOT, "%.1f kB", alloc / 1000.0),
                    r.path("connections").asLong(),
                    r.path("heap_bytes").isNull() ? "-" : String.format(Locale.ROOT, "%.1f", r.path("heap_bytes").asLong() / 1048576.0),
                    r.path("errors").asLong()));
            if (c.equals("sluice")) {
                sluice = r;
            } else if (!c.equals("h2load") && !c.startsWith("sluice") && r.path("errors").asLong() == 0) {
                if (bestPeer == null || r.path("rps").asDouble() > bestPeer.path("rps").asDouble()) {
                    bestPeer = r;
                }
                if (bestP99 == null || r.path("p99_ms").asDouble() < bestP99.path("p99_ms").asDouble()) {
                    bestP99 = r;
                }
            }
        }
        for (JsonNode r : doc.path("results")) {
            if (r.path("errors").asLong() > 0 && !r.path("first_error").isNull()) {
                sb.append("  ").append(r.path("client").asText()).append(" first error: ")
                        .append(r.path("first_error").asText()).append('\n');
            }
        }
        if (sluice != null && bestPeer != null) {
            double ratio = sluice.path("rps").asDouble() / bestPeer.path("rps").asDouble();
            sb.append(String.format(Locale.ROOT, "sluice / best peer (%s) requests/s: %.2fx (target >= 1.20x: %s)%n",
                    bestPeer.path("client").asText(), ratio, ratio >= 1.2 ? "met" : "NOT met"));
            double p99 = sluice.path("p99_ms").asDouble();
            double best = bestP99.path("p99_ms").asDouble();
            sb.append(String.format(Locale.ROOT, "sluice p99 %.2f ms vs best peer p99 (%s) %.2f ms (target: no worse: %s)%n",
                    p99, bestP99.path("client").asText(), best, p99 <= best ? "met" : "NOT met"));
        }
        appendMachine(sb, doc);
        return sb.toString();
    }

    static String memoryTable(JsonNode doc) {
        StringBuilder sb = new StringBuilder();
        sb.append("Memory per idle TLS connection (heap: live-object slope between the first two steps; native: slope of RSS"
                + " minus the JVM's own native memory (NMT) between the last two)\n");
        sb.append(String.format(Locale.ROOT, "%-26s %-8s %-20s %-22s %-24s %10s %10s %10s %6s%n",
                "client", "proto", "open at steps", "heap MiB at steps", "RSS MiB at steps", "heap B/c", "native B/c",
                "total B/c", "errors"));
        JsonNode sluice = null;
        JsonNode best = null;
        for (JsonNode r : doc.path("results")) {
            sb.append(String.format(Locale.ROOT, "%-26s %-8s %-20s %-22s %-24s %10s %10s %10s %6d%n",
                    r.path("client").asText(), r.path("protocol").asText(),
                    join(r.path("connections_open"), 1), join(r.path("heap_bytes"), 1048576.0),
                    join(r.path("rss_bytes"), 1048576.0),
                    r.path("heap_per_connection_bytes").asText(), r.path("native_per_connection_bytes").asText(),
                    r.path("total_per_connection_bytes").asText(), r.path("errors").asLong()));
            if (r.path("client").asText().equals("sluice")) {
                sluice = r;
            } else if (!r.path("client").asText().startsWith("sluice") && r.path("total_per_connection_bytes").isNumber()
                    && (best == null || r.path("total_per_connection_bytes").asLong() < best.path("total_per_connection_bytes").asLong())) {
                best = r;
            }
        }
        if (sluice != null && sluice.path("total_per_connection_bytes").isNumber()) {
            long s = sluice.path("total_per_connection_bytes").asLong();
            sb.append(String.format(Locale.ROOT, "sluice: %.1f KB per idle TLS connection (target <= 20 KB: %s)", s / 1000.0,
                    s <= 20_000 ? "met" : "NOT met"));
            if (best != null) {
                long b = best.path("total_per_connection_bytes").asLong();
                sb.append(String.format(Locale.ROOT, "; best peer %s %.1f KB (target no more: %s)",
                        best.path("client").asText(), b / 1000.0, s <= b ? "met" : "NOT met"));
            }
            sb.append('\n');
        }
        appendMachine(sb, doc);
        return sb.toString();
    }

    private static String join(JsonNode arr, double div) {
        StringBuilder sb = new StringBuilder();
        for (JsonNode v : arr) {
            if (sb.length() > 0) {
                sb.append('/');
            }
            sb.append(div == 1 ? Long.toString(v.asLong()) : String.format(Locale.ROOT, "%.0f", v.asLong() / div));
        }
        return sb.toString();
    }

    private static void appendMachine(StringBuilder sb, JsonNode doc) {
        JsonNode m = doc.path("machine");
        sb.append(String.format(Locale.ROOT, "machine: %d cores, %s, %s, load %s%n", m.path("nproc").asInt(),
                m.path("cpu").asText(), m.path("java").asText(), m.path("loadavg").asText()));
    }
}

package io.sluice.cli.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Phase 2, memory of idle pooled TLS HTTP/2 connections, measured in a JVM that holds nothing but the
 * client ({@link MemoryChild}), against a server in another JVM (the embedded mock is started as
 * {@link ExternalMock} for this phase; with {@code --url} the server is elsewhere anyway).
 * <ol>
 *   <li>The child runs with a fixed, pre-touched heap ({@code -Xms512m -Xmx512m -XX:+AlwaysPreTouch
 *   -XX:+UseSerialGC}) and {@code MALLOC_ARENA_MAX=2}, so heap growth never shows in its resident set.</li>
 *   <li>One client serves every reading. Baseline: one warm-up connection and request, the connection
 *   closed again; heap after GC, direct memory and RSS are read. Then the pool grows in place (its minIdle
 *   raised 100 connections at a time, so one batch of handshakes runs at once) to each step N
 *   ({@code memoryConnections} (100), and {@code nativeLow} (1000) / {@code nativeHigh} (5000) when set),
 *   and the same readings are taken.</li>
 *   <li>Heap and direct memory per connection: the difference between step {@code memoryConnections} and
 *   the baseline. Native memory (BoringSSL keeps TLS state off the heap): (RSS growth − the JVM's own
 *   native growth) between {@code nativeLow} and {@code nativeHigh}, per connection. The JVM's own share
 *   comes from Native Memory Tracking ({@code -XX:NativeMemoryTracking=summary}: the heap, JIT and class
 *   metadata categories, see {@code JvmNativeMemory}; direct growth is subtracted too, as it is counted
 *   on its own): its compiler arenas and code cache move RSS by 10–30 MB between two readings, which moved this figure
 *   between 9 and 13 kB per connection in runs of one build; with that share subtracted, 5.9–6.0 kB. RSS is read after {@code System.trim_native_heap} (when the JVM has it), so that
 *   memory glibc keeps from the connect burst's handshakes but no connection holds is not counted; the
 *   untrimmed figure is reported too. Under {@code --quick} the native step is skipped.</li>
 * </ol>
 * The criterion adds heap + direct + native for 100 connections.
 *
 * <p><b>Thread-safety:</b> stateless between runs; one run at a time.
 */
public final class MemoryPhase implements Phase {
    /** JVM flags of the measured child: fixed, pre-touched heap; a collector without background threads. */
    static final List<String> CHILD_JVM_FLAGS = List.of("-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch",
            "-XX:+UseSerialGC", "-XX:NativeMemoryTracking=summary");

    @Override
    public String id() {
        return "memory";
    }

    @Override
    public PhaseResult run(BenchContext ctx) throws Exception {
        PhaseResult r = new PhaseResult(id(), "Memory of idle pooled TLS HTTP/2 connections");
        BenchOptions o = ctx.options();
        ExternalMock external = null;
        Path cacertFile = null;
        List<String> target = new ArrayList<>();
        try {
            if (ctx.target().embedded() && o.quick()) {
                // No RSS step under --quick: the client's JVM is still its own, and the bench's embedded mock
                // spares a JVM start.
                cacertFile = Files.createTempFile("sluice-bench-mock", ".pem");
                Files.writeString(cacertFile, ctx.target().certificatePem());
                target.addAll(List.of("--url", ctx.target().https().toString(), "--cacert", cacertFile.toString()));
                r.note("The client ran in a JVM of its own (" + String.join(" ", CHILD_JVM_FLAGS)
                        + ", MALLOC_ARENA_MAX=2), against the bench's embedded mock.");
            } else if (ctx.target().embedded()) {
                external = ExternalMock.start(List.of());
                target.addAll(List.of("--url", external.https().toString(), "--cacert",
                        external.certificatePath().toString()));
                r.note("The mock provider ran in a separate JVM (pid " + external.pid() + "), the client in another"
                        + " (" + String.join(" ", CHILD_JVM_FLAGS) + ", MALLOC_ARENA_MAX=2), so only the client's"
                        + " memory is counted.");
            } else {
                target.addAll(List.of("--url", ctx.target().main().toString()));
                if (o.cacert() != null) {
                    target.addAll(List.of("--cacert", o.cacert().toAbsolutePath().toString()));
                }
                if (o.insecure()) {
                    target.add("--insecure");
                }
            }
            long fdLimit = MemoryProbe.openFileLimit();
            int n100 = o.memoryConnections();
            int low = o.nativeLow();
            int high = o.quick() ? 0 : o.nativeHigh();
            if (fdLimit > 0 && fdLimit != Long.MAX_VALUE) {
                int cap = (int) Math.max(0, fdLimit - 1000);
                if (high > cap) {
                    r.note("ulimit -n is " + fdLimit + ": the native step uses " + cap + " instead of " + high
                            + " connections.");
                    high = cap;
                }
                if (low > cap) {
                    low = 0;
                }
            }
            boolean nativeStep = low > 0 && high > low * 2;
            TreeSet<Integer> steps = new TreeSet<>();
            steps.add(n100);
            if (low > 0) {
                steps.add(low);
            }
            if (nativeStep) {
                steps.add(high);
            }
            List<Map<String, Long>> readings = runChild(ctx, target, steps);
            Map<String, Long> base = readings.get(0);
            Map<Integer, Map<String, Long>> byStep = new LinkedHashMap<>();
            int i = 1;
            for (int n : steps) {
                byStep.put(n, readings.get(i++));
            }
            Map<String, Long> at = byStep.get(n100);
            long opened = at.get("connections");
            double heapPer = (double) (at.get("heap_used") - base.get("heap_used")) / opened;
            double directPer = Math.max(0, (double) (at.get("direct") - base.get("direct")) / opened);
            int scale = 100;
            r.metric("connections", opened);
            r.metric("protocol", "TLS HTTP/2, idle in the pool");
            r.metric("method", "separate client JVM (" + String.join(" ", CHILD_JVM_FLAGS) + ", MALLOC_ARENA_MAX=2)");
            r.metric("heap_bytes_per_100", Math.round(heapPer * scale));
            r.metric("direct_bytes_per_100", Math.round(directPer * scale));
            r.metric("baseline", base);
            for (Map.Entry<Integer, Map<String, Long>> e : byStep.entrySet()) {
                Map<String, Long> m = new LinkedHashMap<>(e.getValue());
                long n = Math.max(1, m.get("connections"));
                m.put("heap_per_connection_bytes", Math.round((double) (m.get("heap_used") - base.get("heap_used")) / n));
                r.metric("at_" + e.getKey(), m);
            }
            if (low > 0 && low != n100) {
                Map<String, Long> a = byStep.get(n100);
                Map<String, Long> b = byStep.get(low);
                double marginal = (double) (b.get("heap_used") - a.get("heap_used"))
                        / Math.max(1, b.get("connections") - a.get("connections"));
                r.metric("heap_marginal_bytes_per_connection", Math.round(marginal));
                r.note("Heap between " + a.get("connections") + " and " + b.get("connections") + " connections: "
                        + Num.bytes(marginal) + " per connection (without the per-client costs that grow with the"
                        + " first connections, e.g. the TLS session cache).");
            }
            double nativePer = 0;
            if (nativeStep) {
                Map<String, Long> r1 = byStep.get(low);
                Map<String, Long> r2 = byStep.get(high);
                long n1 = r1.get("connections");
                long n2 = r2.get("connections");
                long dn = Math.max(1, n2 - n1);
                boolean trimmed = r1.get("rss_trimmed") > 0 && r2.get("rss_trimmed") > 0;
                long dRssRaw = r2.get("rss") - r1.get("rss");
                long dRss = trimmed ? r2.get("rss_trimmed") - r1.get("rss_trimmed") : dRssRaw;
                long dHeapCommitted = r2.get("heap_committed") - r1.get("heap_committed");
                long dDirect = r2.get("direct") - r1.get("direct");
                long dHeapUsed = r2.get("heap_used") - r1.get("heap_used");
                // The JVM's own native memory (the pre-touched heap, compiler arenas, code cache, class metadata)
                // as Native Memory Tracking counts it; -1 when NMT is off. Direct memory is counted on its own.
                boolean nmt = r1.getOrDefault("jvm_committed", -1L) >= 0 && r2.getOrDefault("jvm_committed", -1L) >= 0;
                long dJvm = nmt ? r2.get("jvm_committed") - r1.get("jvm_committed") : -1;
                long dJvmAccounted = (nmt ? dJvm : Math.max(0, dHeapCommitted)) + Math.max(0, dDirect);
                nativePer = Math.max(0, (double) (dRss - dJvmAccounted) / dn);
                double nativeRaw = Math.max(0, (double) (dRssRaw - dJvmAccounted) / dn);
                double marginalDirect = Math.max(0, (double) dDirect / dn);
                if (marginalDirect > directPer) {
                    directPer = marginalDirect;
                    r.metric("direct_bytes_per_100", Math.round(directPer * scale));
                    r.note("Direct memory counted at its marginal cost between " + n1 + " and " + n2
                            + " connections, which was higher than the difference measured at " + opened + ".");
                }
                Map<String, Object> step = new LinkedHashMap<>();
                step.put("from_connections", n1);
                step.put("to_connections", n2);
                step.put("rss_growth_bytes", dRss);
                step.put("rss_growth_untrimmed_bytes", dRssRaw);
                step.put("jvm_native_growth_bytes", dJvm);
                step.put("heap_committed_growth_bytes", dHeapCommitted);
                step.put("heap_used_growth_bytes", dHeapUsed);
                step.put("direct_growth_bytes", dDirect);
                step.put("rss_trimmed", trimmed);
                step.put("nmt", nmt);
                r.metric("native_step", step);
                r.metric("native_bytes_per_100", Math.round(nativePer * scale));
                r.metric("native_untrimmed_bytes_per_100", Math.round(nativeRaw * scale));
                r.metric("heap_marginal_native_step_bytes_per_connection", Math.round((double) dHeapUsed / dn));
                r.note("Native memory: (RSS growth − the JVM's own native growth ("
                        + (nmt ? Num.bytes(dJvm) + " by Native Memory Tracking: heap (pre-touched), compiler arenas,"
                        + " code cache, class metadata" : "NMT off: committed heap " + dHeapCommitted + " B")
                        + ") − direct growth (" + dDirect + " B)) between " + n1 + " and " + n2
                        + " open connections, per connection, × 100"
                        + (trimmed ? ", with RSS read after System.trim_native_heap. Untrimmed (glibc still holding"
                        + " freed handshake memory): " + Num.bytes(nativeRaw * scale) + " per 100."
                        : " (this JVM cannot trim the native heap, so freed malloc memory is counted too)."));
            } else {
                r.metric("native_bytes_per_100", null);
                r.note(o.quick() ? "--quick: the native-memory (RSS) step was skipped; the total counts heap and"
                        + " direct memory only." : "The native-memory step was skipped (not enough file descriptors"
                        + " or no native step configured).");
            }
            r.metric("native_measured", nativeStep);
            long total = Math.round((heapPer + directPer + nativePer) * scale);
            r.metric("total_bytes_per_100", total);
        } finally {
            if (external != null) {
                external.close();
            }
            if (cacertFile != null) {
                Files.deleteIfExists(cacertFile);
            }
        }
        return r;
    }

    /** Runs {@link MemoryChild}; returns its readings, the baseline first, then one per step in order. */
    private static List<Map<String, Long>> runChild(BenchContext ctx, List<String> target, TreeSet<Integer> steps)
            throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(CHILD_JVM_FLAGS);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), MemoryChild.class.getName()));
        cmd.addAll(target);
        StringBuilder s = new StringBuilder();
        for (int n : steps) {
            s.append(s.length() == 0 ? "" : ",").append(n);
        }
        cmd.addAll(List.of("--steps", s.toString()));
        Path err = Files.createTempFile("sluice-memory-child", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
        pb.environment().put("MALLOC_ARENA_MAX", "2");
        ctx.progress().start("memory: client JVM, steps 0," + s, steps.size() + 1, null);
        Process p = pb.start();
        try {
            CompletableFuture<List<Map<String, Long>>> lines = CompletableFuture.supplyAsync(() -> {
                List<Map<String, Long>> out = new ArrayList<>();
                try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        if (line.startsWith("reading ")) {
                            out.add(parse(line));
                            ctx.progress().done(1);
                            ctx.progress().done(1);
                        } else if (line.startsWith("error ")) {
                            throw new IllegalStateException("memory child: " + line.substring(6));
                        } else if (line.equals("done")) {
                            return out;
                        }
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                throw new IllegalStateException("memory child ended without finishing");
            });
            List<Map<String, Long>> out;
            try {
                out = lines.get(15, TimeUnit.MINUTES);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException(e.getCause().getMessage() + " (stderr: " + tail(err) + ")", e.getCause());
            }
            if (out.size() != steps.size() + 1) {
                throw new IllegalStateException("memory child gave " + out.size() + " readings for " + (steps.size() + 1)
                        + " steps");
            }
            return out;
        } finally {
            ctx.progress().finish();
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            Files.deleteIfExists(err);
        }
    }

    static Map<String, Long> parse(String line) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (String part : line.substring("reading ".length()).trim().split(" ")) {
            int eq = part.indexOf('=');
            m.put(part.substring(0, eq), Long.parseLong(part.substring(eq + 1)));
        }
        return m;
    }

    private static String tail(Path f) {
        try {
            List<String> all = Files.readAllLines(f, StandardCharsets.UTF_8);
            return String.join(" | ", all.subList(Math.max(0, all.size() - 5), all.size()));
        } catch (IOException e) {
            return "?";
        }
    }
}

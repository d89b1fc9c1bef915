package io.sluice.bench.compare;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.testkit.JvmNativeMemory;
import io.sluice.testkit.LiveHeap;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.management.ObjectName;
import org.HdrHistogram.Histogram;

/**
 * One client in its own JVM, spawned by {@link CompareMain}.
 *
 * <pre>
 * java -cp benchmarks.jar io.sluice.bench.compare.ClientRun CLIENT URL CERT_PATH N C
 * java -cp benchmarks.jar io.sluice.bench.compare.ClientRun CLIENT URL CERT_PATH MAX_CONNECTIONS C memory 100,1000,5000
 * </pre>
 *
 * <p>{@code URL} is where every request goes; {@code CERT_PATH} a PEM file of extra trust anchors,
 * or {@code -} for the JDK's default CAs only.
 *
 * <p>Throughput: warm-up ({@code -Dcompare.warmup}, default 10 % of N, at least 200 requests) at
 * the same concurrency, then N requests with C in flight (closed loop, {@link LoadDriver}). Prints
 * {@code RESULT {json}} on stdout: rps, p50/p99 (ms), the process's CPU time over the measured
 * phase divided by N (all threads of the JVM: I/O, callbacks, GC, JIT), the heap used after GC
 * with the client still open, the sockets the process holds at the end of the measured phase
 * ({@code client_sockets}: its open connections, counted from {@code /proc/self/fd}), errors.
 *
 * <p>Memory: for each step, sends as many concurrent requests as the step's connection count, each
 * held {@code x-mock-delay-ms} long on the server (long enough for every handshake of the step to
 * finish while the earlier requests still wait, so none is reused), waits for all answers, lets the
 * connections sit idle, runs GC, asks the JVM to trim the native heap, settles, and prints
 * {@code STEP {json}} with the heap used and the VmRSS of the process. It then waits for one line on
 * stdin (the parent reads the mock's open-connection count meanwhile) before the next step.
 *
 * <p>Progress goes to stderr.
 */
public final class ClientRun {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ClientRun() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 5) {
            System.err.println("usage: ClientRun CLIENT URL CERT_PATH N C [memory STEPS]");
            System.exit(2);
        }
        String name = args[0];
        URI base = URI.create(args[1]);
        String pem = args[2].equals("-") ? null : Files.readString(Path.of(args[2]));
        long n = Long.parseLong(args[3]);
        int c = Integer.parseInt(args[4]);
        boolean memory = args.length > 5 && args[5].equals("memory");
        Map<String, Object> result;
        if (memory) {
            List<Integer> steps = new ArrayList<>();
            for (String s : args[6].split(",")) {
                steps.add(Integer.parseInt(s.trim()));
            }
            result = memory(name, base, pem, steps);
        } else {
            result = throughput(name, base, pem, n, c);
        }
        System.out.println("RESULT " + JSON.writeValueAsString(result));
        System.out.flush();
        System.exit(0);
    }

    static Map<String, Object> throughput(String name, URI base, String pem, long n, int c) throws Exception {
        Peer peer = Peers.create(name, new PeerConfig(base, pem, c, false, 0));
        int conc = peer.concurrency(c);
        long warm = Long.getLong("compare.warmup", Math.max(200, n / 10));
        Duration deadline = Duration.ofSeconds(120 + n / 500);
        log(name, "warm-up: " + warm + " requests, " + conc + " in flight");
        LoadDriver.Outcome w = LoadDriver.closedLoop(peer, warm, conc, 0, deadline);
        log(name, String.format("warm-up done: %.0f req/s, %d errors%s", w.rps(), w.errors(),
                w.firstError() != null ? " (first: " + w.firstError() + ")" : ""));
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long alloc0 = allocatedBytes();
        long cpu0 = os.getProcessCpuTime();
        LoadDriver.Outcome o = LoadDriver.closedLoop(peer, n, conc, 0, deadline);
        long cpu1 = os.getProcessCpuTime();
        long alloc1 = allocatedBytes();
        int sockets = openSockets();
        long heap = heapAfterGc();
        Histogram h = o.latency();
        log(name, String.format("measured: %.0f req/s, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms, "
                        + "%d errors", o.rps(), h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(90) / 1e6,
                h.getValueAtPercentile(99) / 1e6, h.getValueAtPercentile(99.9) / 1e6, h.getMaxValue() / 1e6, o.errors()));
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("client", name);
        r.put("protocol", peer.protocol());
        r.put("concurrency", conc);
        r.put("requests", n);
        r.put("rps", round(o.rps(), 1));
        r.put("p50_ms", round(h.getTotalCount() > 0 ? h.getValueAtPercentile(50) / 1e6 : 0, 3));
        r.put("p99_ms", round(h.getTotalCount() > 0 ? h.getValueAtPercentile(99) / 1e6 : 0, 3));
        r.put("cpu_us_per_request", round((cpu1 - cpu0) / 1e3 / n, 2));
        r.put("alloc_bytes_per_request", alloc0 < 0 || alloc1 < 0 ? -1 : Math.round((double) (alloc1 - alloc0) / n));
        r.put("heap_bytes", heap);
        r.put("client_sockets", sockets);
        r.put("errors", o.errors());
        r.put("warmup_requests", warm);
        r.put("warmup_errors", w.errors());
        r.put("first_error", o.firstError() != null ? o.firstError() : w.firstError());
        r.put("config", peer.describe());
        closeQuietly(peer, name);
        return r;
    }

    static Map<String, Object> memory(String name, URI base, String pem, List<Integer> steps) throws Exception {
        int max = steps.get(steps.size() - 1);
        Peer peer = Peers.create(name, new PeerConfig(base, pem, max, true, max));
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        List<Map<String, Object>> out = new ArrayList<>();
        long errors = 0;
        String firstError = null;
        int prev = 0;
        settle();
        Map<String, Object> base0 = new LinkedHashMap<>();
        base0.put("target", 0);
        base0.put("heap_bytes", liveHeap());
        base0.put("rss_bytes", rss());
        base0.put("jvm_native_bytes", jvmNativeCommitted());
        System.out.println("STEP " + JSON.writeValueAsString(base0));
        System.out.flush();
        stdin.readLine();
        out.add(base0);
        for (int step : steps) {
            long delay = 3_000 + 6L * (step - prev);
            log(name, "opening " + step + " connections (" + step + " concurrent requests held " + delay + " ms)");
            LoadDriver.Outcome o = LoadDriver.burst(peer, step, delay, Duration.ofMillis(delay).plusSeconds(180));
            errors += o.errors();
            if (firstError == null) {
                firstError = o.firstError();
            }
            log(name, "step " + step + ": " + o.ok() + " answered, " + o.errors() + " errors"
                    + (o.firstError() != null ? " (first: " + o.firstError() + ")" : ""));
            settle();
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("target", step);
            s.put("heap_bytes", liveHeap());
            s.put("rss_bytes", rss());
            s.put("jvm_native_bytes", jvmNativeCommitted());
            s.put("errors", o.errors());
            System.out.println("STEP " + JSON.writeValueAsString(s));
            System.out.flush();
            stdin.readLine();
            out.add(s);
            prev = step;
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("client", name);
        r.put("protocol", peer.protocol());
        r.put("steps", out);
        r.put("errors", errors);
        r.put("first_error", firstError);
        r.put("config", peer.describe());
        closeQuietly(peer, name);
        return r;
    }

    private static void closeQuietly(Peer peer, String name) {
        try {
            peer.close();
        } catch (Exception e) {
            log(name, "close failed: " + e);
        }
    }

    /** GC, native-heap trim where the JVM offers it, and a pause so that freed memory settles. */
    private static void settle() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(300);
        }
        trimNativeHeap();
        Thread.sleep(1_000);
    }

    /**
     * {@code jcmd PID System.trim_native_heap} from inside: malloc_trim through the
     * DiagnosticCommand MBean, on JDKs that have the command (17.0.9 and later). Quietly skipped
     * otherwise: the child JVMs also run with MALLOC_ARENA_MAX=2 and a low MALLOC_TRIM_THRESHOLD_.
     */
    static boolean trimNativeHeap() {
        try {
            Object r = ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "systemTrimNativeHeap",
                    new Object[] {new String[0]}, new String[] {String[].class.getName()});
            return r != null;
        } catch (Exception e) {
            return false;
        }
    }

    /**
     * Bytes of live objects: the total of {@code GC.class_histogram}, which runs a full collection first.
     * The MXBean's "used" right after {@code System.gc()} strays by megabytes between readings (G1 keeps
     * regions it has not yet reclaimed); falls back to it where the command is missing.
     */
    static long liveHeap() throws InterruptedException {
        try {
            return LiveHeap.totalBytes(dcmd("gcClassHistogram"));
        } catch (Exception e) {
            // fall through
        }
        return heapAfterGc();
    }

    /**
     * The JVM's own committed native memory: the heap, the JIT (code cache, compiler arenas) and class
     * metadata, by Native Memory Tracking ({@code -XX:NativeMemoryTracking=summary}); -1 when tracking is
     * off. Thread stacks and direct buffers are not in it: a client that keeps them per connection pays
     * for them. RSS minus this is what the client's connections hold off the heap.
     */
    static long jvmNativeCommitted() {
        return JvmNativeMemory.ownCommitted();
    }

    private static String dcmd(String operation, String... args) throws Exception {
        return (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), operation,
                new Object[] {args}, new String[] {String[].class.getName()});
    }

    static long heapAfterGc() throws InterruptedException {
        System.gc();
        Thread.sleep(100);
        System.gc();
        Thread.sleep(100);
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /**
     * Heap bytes allocated by every thread of this JVM since it started (the load driver's own share
     * included: a few hundred bytes per request for its histogram and callbacks); -1 where the JVM does
     * not count them.
     */
    static long allocatedBytes() {
        if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t
                && t.isThreadAllocatedMemorySupported() && t.isThreadAllocatedMemoryEnabled()) {
            if (TOTAL_ALLOCATED != null) {
                try {
                    return (long) TOTAL_ALLOCATED.invoke(t);
                } catch (Throwable e) {
                    // fall through to the live threads' sum
                }
            }
            long sum = 0;
            for (long a : t.getThreadAllocatedBytes(t.getAllThreadIds())) {
                sum += Math.max(0, a);
            }
            return sum;
        }
        return -1;
    }

    /**
     * {@code getTotalThreadAllocatedBytes()} (dead threads included) is in the JDK 17 updates and in 21+, but not
     * in Java 17's published API, which {@code --release 17} compiles against on a newer JDK: looked up, not linked.
     * Without it, the live threads' sum.
     */
    private static final java.lang.invoke.MethodHandle TOTAL_ALLOCATED = totalAllocatedHandle();

    private static java.lang.invoke.MethodHandle totalAllocatedHandle() {
        try {
            return java.lang.invoke.MethodHandles.publicLookup().findVirtual(com.sun.management.ThreadMXBean.class,
                    "getTotalThreadAllocatedBytes", java.lang.invoke.MethodType.methodType(long.class));
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    /**
     * Sockets this process has open (its TCP connections: a client JVM listens on none), from the
     * {@code socket:[inode]} links in {@code /proc/self/fd}; -1 where /proc is missing.
     */
    static int openSockets() {
        try (java.util.stream.Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.filter(f -> {
                try {
                    return Files.readSymbolicLink(f).toString().startsWith("socket:");
                } catch (IOException | RuntimeException e) {
                    return false; // closed while listing
                }
            }).count();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** VmRSS of this process, in bytes; -1 where /proc is missing. */
    static long rss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    static void log(String client, String msg) {
        System.err.println("[compare " + client + "] " + msg);
        System.err.flush();
    }
}

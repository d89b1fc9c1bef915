package io.sluice.cli.bench;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.util.internal.PlatformDependent;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.Timeouts;
import io.sluice.http.TlsOptions;
import io.sluice.testkit.JvmNativeMemory;
import io.sluice.testkit.LiveHeap;
import io.sluice.pool.Pool;
import io.sluice.pool.PoolConfig;
import java.io.PrintStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import javax.management.ObjectName;

/**
 * The client side of the memory phase, in a JVM of its own ({@link MemoryPhase} starts it with a
 * fixed, pre-touched heap: {@code -Xms512m -Xmx512m -XX:+AlwaysPreTouch -XX:+UseSerialGC}, and
 * {@code MALLOC_ARENA_MAX=2}), so that nothing but the client lives in the process and heap growth
 * never shows in the resident set.
 *
 * <p>Arguments: {@code --url <https base> [--cacert <pem file>] [--insecure] --steps 100,1000,5000
 * [--histogram-dir <dir>] [--batch <n>]}. One client (maxConnections = the largest step) serves every reading.
 * Baseline ({@code connections=0}): one warm-up connection and one request, then that connection
 * closed. Then for each step N in ascending order the pool's minIdle is raised, {@link #BATCH} at a
 * time, until N connections are open; one request is sent, the process settles and one line
 * {@code reading connections=N heap_used=… heap_committed=… direct=… netty_direct=…
 * allocator_direct=… jdk_direct=… rss=… rss_trimmed=…} is printed. Ends with {@code done}, or
 * {@code error <message>}.
 *
 * <p><b>Thread-safety:</b> a program, single-threaded main.
 */
public final class MemoryChild {
    /** Connections opened at once while a step's pool grows (the default of {@code --batch}). */
    static final int BATCH = 100;

    private MemoryChild() {
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try {
            run(args, out);
            out.println("done");
        } catch (Throwable t) {
            out.println("error " + String.valueOf(t).replace('\n', ' '));
            t.printStackTrace();
        }
        out.flush();
        System.exit(0);
    }

    private static void run(String[] args, PrintStream out) throws Exception {
        URI url = null;
        Path cacert = null;
        boolean insecure = false;
        List<Integer> steps = new ArrayList<>();
        Path histograms = null;
        int batch = BATCH;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--url" -> url = URI.create(args[++i]);
                case "--cacert" -> cacert = Path.of(args[++i]);
                case "--insecure" -> insecure = true;
                case "--steps" -> {
                    for (String s : args[++i].split(",")) {
                        steps.add(Integer.parseInt(s.trim()));
                    }
                }
                case "--histogram-dir" -> histograms = Path.of(args[++i]);
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (url == null) {
            throw new IllegalArgumentException("--url is required");
        }
        TlsOptions.Builder tb = TlsOptions.builder().insecure(insecure);
        if (cacert != null) {
            tb.trustCertificatePem(Files.readString(cacert, StandardCharsets.US_ASCII));
        }
        TlsOptions tls = tb.build();
        HttpRequest ping = HttpRequest.newBuilder(url.resolve("/ping")).GET().build();
        out.println("info open_file_limit=" + MemoryProbe.openFileLimit());

        // One client for the baseline and every step, grown in place: readings differ only by the
        // connections open. Baseline: one warm-up connection and request, then that connection closed.
        int most = steps.stream().mapToInt(Integer::intValue).max().orElse(1);
        ConnectionPoolManager c = client(tls, most, 0);
        try {
            Pool<?> pool = c.pool(ping.route());
            grow(pool, 1, batch);
            c.send(ping).get(30, TimeUnit.SECONDS);
            awaitNoLeases(pool);
            out.println("info tls_provider=" + c.tlsProvider() + " native_transport=" + c.nativeTransport()
                    + " direct_no_cleaner=" + PlatformDependent.useDirectBufferNoCleaner());
            pool.setMinIdle(0);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (pool.stats().open() > 0 && System.nanoTime() < deadline) {
                if (pool.closeIdleConnections() == 0) {
                    Thread.sleep(5);
                }
            }
            read(out, pool.stats().open(), histograms);
            for (int n : steps) {
                grow(pool, n, batch);
                c.send(ping).get(30, TimeUnit.SECONDS);
                awaitNoLeases(pool);
                read(out, pool.stats().open(), histograms);
            }
        } finally {
            c.close();
        }
    }

    private static ConnectionPoolManager client(TlsOptions tls, int max, int minIdle) {
        PoolConfig config = PoolConfig.builder().maxConnections(max).minIdle(minIdle)
                .idleTimeout(Duration.ofMinutes(30)).maxLifetime(Duration.ofMinutes(60))
                .connectionTimeout(Duration.ofSeconds(60)).maxRetries(10).build();
        // a generous connect timeout: a whole batch of full handshakes starts at once against one server
        Timeouts t = new Timeouts(Duration.ofSeconds(60), Duration.ofSeconds(30), Duration.ofSeconds(30), null);
        return ConnectionPoolManager.builder().poolConfig(config).tls(tls).timeouts(t).statusRetries(false)
                .ioThreads(2).build();
    }

    /**
     * Grows the pool to n idle connections by raising its minIdle one batch ({@link #BATCH} unless {@code --batch} says otherwise) at a time, so at most
     * one batch of handshakes runs at once, as when a pool grows under demand. Thousands of simultaneous
     * full handshakes leave glibc's heap fragmented by their transient buffers, which trimming cannot give
     * back; the RSS growth then measured how the burst interleaved rather than what a connection holds.
     */
    private static void grow(Pool<?> pool, int n, int batch) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (pool.stats().open() < n) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("only " + pool.stats().open() + " of " + n + " connections opened");
            }
            pool.setMinIdle(Math.min(n, pool.stats().open() + batch));
            pool.warmUp().get(180, TimeUnit.SECONDS);
            if (pool.stats().open() < pool.minIdle()) {
                Thread.sleep(100); // failed connects: the pool's housekeeping opens replacements
            }
        }
    }

    private static void awaitNoLeases(Pool<?> pool) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (pool.stats().leasesOut() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }

    private static void read(PrintStream out, int connections, Path histograms) throws Exception {
        Thread.sleep(300); // let the loops and the pool's housekeeping go quiet
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        System.gc(); // a full collection (serial GC); read at once, before anything allocates again
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        // Heap after GC, exactly: the class histogram's total (live objects after the full GC it runs). The
        // MXBean's used figure right after System.gc() was off by 1.5 to 5 MB between runs on this machine.
        String histogram = dcmdOutput("gcClassHistogram");
        long heapUsed = LiveHeap.totalBytes(histogram);
        long netty = PlatformDependent.usedDirectMemory();
        long allocator = ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p
                ? p.metric().usedDirectMemory() : -1;
        long jdk = 0;
        for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if ("direct".equals(b.getName())) {
                jdk = Math.max(0, b.getMemoryUsed());
            }
        }
        // Netty's counter also counts the buffers it takes from ByteBuffer.allocateDirect (then the JDK's
        // pool has them too: both moved by the same bytes in every reading); only buffers without a
        // cleaner are Netty's alone.
        long direct = PlatformDependent.useDirectBufferNoCleaner() ? Math.max(0, netty) + jdk : Math.max(jdk, netty);
        long rss = MemoryProbe.rssBytes();
        // glibc keeps freed memory (the connect burst's handshake buffers) resident; give it back, read again
        long rssTrimmed = dcmd("systemTrimNativeHeap") ? MemoryProbe.rssBytes() : -1;
        long mallocInUse = mallocInUse();
        long[] jvm = jvmNative();
        out.println(String.format(Locale.ROOT,
                "reading connections=%d heap_used=%d heap_used_mxbean=%d heap_committed=%d direct=%d netty_direct=%d"
                        + " allocator_direct=%d jdk_direct=%d rss=%d rss_trimmed=%d malloc_in_use=%d"
                        + " jvm_committed=%d jvm_malloc=%d",
                connections, heapUsed, heap.getUsed(), heap.getCommitted(), direct, netty, allocator, jdk, rss,
                rssTrimmed, mallocInUse, jvm[0], jvm[1]));
        if (histograms != null) {
            Files.createDirectories(histograms);
            Files.writeString(histograms.resolve("histo-" + connections + ".txt"), histogram);
            if (jvm[0] >= 0) {
                Files.writeString(histograms.resolve("nmt-" + connections + ".txt"), dcmdOutput("vmNativeMemory", "summary"));
            }
        }
    }

    /**
     * Bytes glibc's malloc has handed out and not had back (arena memory minus its free chunks, plus
     * mmapped chunks), from {@code System.native_heap_info} (JDK 21 and later); -1 where the JVM or the
     * C library cannot tell. Unlike RSS it does not depend on how freed memory is scattered.
     */
    static long mallocInUse() {
        try {
            return mallocInUse(dcmdOutput("systemNativeHeapInfo"));
        } catch (Exception e) {
            return -1;
        }
    }

    /** Parses the totals that follow the last {@code </heap>} of glibc's malloc_info XML. */
    static long mallocInUse(String xml) {
        int tail = xml.lastIndexOf("</heap>");
        if (tail < 0) {
            return -1;
        }
        String totals = xml.substring(tail);
        long current = attribute(totals, "<system type=\"current\"", "size");
        long fast = attribute(totals, "<total type=\"fast\"", "size");
        long rest = attribute(totals, "<total type=\"rest\"", "size");
        long mmap = attribute(totals, "<total type=\"mmap\"", "size");
        if (current < 0 || fast < 0 || rest < 0) {
            return -1;
        }
        return current - fast - rest + Math.max(0, mmap);
    }

    private static long attribute(String xml, String element, String name) {
        int at = xml.indexOf(element);
        if (at < 0) {
            return -1;
        }
        int end = xml.indexOf('>', at);
        String tag = xml.substring(at, end < 0 ? xml.length() : end);
        int k = tag.indexOf(name + "=\"");
        if (k < 0) {
            return -1;
        }
        int from = k + name.length() + 2;
        return Long.parseLong(tag.substring(from, tag.indexOf('"', from)));
    }

    /** Runs a diagnostic command (by its MBean operation name); false when this JVM does not have it. */
    private static boolean dcmd(String operation) {
        try {
            dcmdOutput(operation);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private static String dcmdOutput(String operation, String... args) throws Exception {
        return (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), operation,
                new Object[] {args}, new String[] {String[].class.getName()});
    }

    /**
     * {@code [the JVM's own committed native memory (heap, JIT, class metadata; see JvmNativeMemory),
     * NMT's malloc total]}, each -1 when tracking is off. Subtracted from RSS growth, the first leaves
     * what the native libraries (BoringSSL) and per-connection threads or buffers hold.
     */
    static long[] jvmNative() {
        try {
            String summary = dcmdOutput("vmNativeMemory", "summary");
            return new long[] {JvmNativeMemory.ownCommitted(summary), parseNmt(summary)[1]};
        } catch (Exception e) {
            return new long[] {-1, -1};
        }
    }

    /** {@code [committed, malloc]} of the "Total" lines of an NMT summary, -1 each when absent. */
    static long[] parseNmt(String summary) {
        long committed = -1;
        long malloc = -1;
        for (String line : summary.split("\n")) {
            String t = line.trim();
            if (committed < 0 && t.startsWith("Total:")) {
                int at = t.indexOf("committed=");
                if (at >= 0) {
                    committed = kb(t.substring(at + "committed=".length()));
                }
            } else if (committed >= 0 && malloc < 0 && t.startsWith("malloc:")) {
                malloc = kb(t.substring("malloc:".length()).trim());
                break;
            }
        }
        return new long[] {committed, malloc};
    }

    private static long kb(String s) {
        int end = s.indexOf("KB");
        return end < 0 ? -1 : Long.parseLong(s.substring(0, end).trim()) * 1024;
    }
}

package io.sluice.cli.bench;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.util.internal.PlatformDependent;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.Timeouts;
import io.sluice.http.TlsOptions;
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
 * [--histogram-dir <dir>]}. For each step it builds a client whose pool has {@code minIdle} =
 * {@code maxConnections} = N, waits for {@code pool.warmUp()} (and until N are open), sends one
 * request, lets the process settle and prints one line
 * {@code reading connections=N heap_used=… heap_committed=… direct=… netty_direct=…
 * allocator_direct=… jdk_direct=… rss=…}, then closes the client. Before the steps, the baseline
 * ({@code connections=0}): a client with one warm-up connection and one request, the connection then
 * closed, the client left open (every reading holds exactly one client). Ends with {@code done}, or
 * {@code error <message>}.
 *
 * <p><b>Thread-safety:</b> a program, single-threaded main.
 */
public final class MemoryChild {
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

        // Baseline: one warm-up connection and request, then the connection closed; the client stays.
        ConnectionPoolManager baseline = client(tls, 1);
        try {
            Pool<?> pool = open(baseline, ping, 1);
            out.println("info tls_provider=" + baseline.tlsProvider() + " native_transport="
                    + baseline.nativeTransport());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (pool.stats().open() > 0 && System.nanoTime() < deadline) {
                if (pool.closeIdleConnections() == 0) {
                    Thread.sleep(5);
                }
            }
            read(out, pool.stats().open(), histograms);
        } finally {
            baseline.close();
        }
        for (int n : steps) {
            ConnectionPoolManager c = client(tls, n);
            try {
                Pool<?> pool = open(c, ping, n);
                read(out, pool.stats().open(), histograms);
            } finally {
                c.close();
            }
        }
    }

    private static ConnectionPoolManager client(TlsOptions tls, int n) {
        PoolConfig config = PoolConfig.builder().maxConnections(n).minIdle(n)
                .idleTimeout(Duration.ofMinutes(30)).maxLifetime(Duration.ofMinutes(60))
                .connectionTimeout(Duration.ofSeconds(60)).maxRetries(10).build();
        // a generous connect timeout: thousands of full handshakes start at once against one server
        Timeouts t = new Timeouts(Duration.ofSeconds(60), Duration.ofSeconds(30), Duration.ofSeconds(30), null);
        return ConnectionPoolManager.builder().poolConfig(config).tls(tls).timeouts(t).statusRetries(false)
                .ioThreads(2).build();
    }

    /** Creates the route's pool (it pre-warms to minIdle = n), waits until n are open, sends one request. */
    private static Pool<?> open(ConnectionPoolManager client, HttpRequest ping, int n) throws Exception {
        Pool<?> pool = client.pool(ping.route());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            pool.warmUp().get(180, TimeUnit.SECONDS);
            if (pool.stats().open() >= n) {
                break;
            }
            Thread.sleep(100); // failed connects: the pool's housekeeping opens replacements
        }
        if (pool.stats().open() < n) {
            throw new IllegalStateException("only " + pool.stats().open() + " of " + n + " connections opened");
        }
        client.send(ping).get(30, TimeUnit.SECONDS);
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (pool.stats().leasesOut() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return pool;
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
        long heapUsed = histogramTotal(histogram);
        long netty = PlatformDependent.usedDirectMemory();
        long allocator = ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p
                ? p.metric().usedDirectMemory() : -1;
        long jdk = 0;
        for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if ("direct".equals(b.getName())) {
                jdk = Math.max(0, b.getMemoryUsed());
            }
        }
        long rss = MemoryProbe.rssBytes();
        // glibc keeps freed memory (the connect burst's handshake buffers) resident; give it back, read again
        long rssTrimmed = dcmd("systemTrimNativeHeap") ? MemoryProbe.rssBytes() : -1;
        out.println(String.format(Locale.ROOT,
                "reading connections=%d heap_used=%d heap_used_mxbean=%d heap_committed=%d direct=%d netty_direct=%d"
                        + " allocator_direct=%d jdk_direct=%d rss=%d rss_trimmed=%d",
                connections, heapUsed, heap.getUsed(), heap.getCommitted(), Math.max(0, netty) + jdk, netty, allocator, jdk, rss,
                rssTrimmed));
        if (histograms != null) {
            Files.createDirectories(histograms);
            Files.writeString(histograms.resolve("histo-" + connections + ".txt"), histogram);
        }
    }

    /** The bytes of the "Total" line of a GC.class_histogram output. */
    static long histogramTotal(String histogram) {
        for (String line : histogram.split("\n")) {
            String t = line.trim();
            if (t.startsWith("Total")) {
                String[] f = t.split("\\s+");
                return Long.parseLong(f[f.length - 1]);
            }
        }
        throw new IllegalStateException("no Total line in the class histogram");
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

    private static String dcmdOutput(String operation) throws Exception {
        return (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), operation,
                new Object[] {new String[0]}, new String[] {String[].class.getName()});
    }
}

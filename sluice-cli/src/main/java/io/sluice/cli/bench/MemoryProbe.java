package io.sluice.cli.bench;

import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads this process's memory: Java heap after GC, direct memory (Netty's counter plus the JDK's
 * direct buffer pool), and resident set size from {@code /proc/self/status}.
 *
 * <p><b>Thread-safety:</b> stateless; thread-safe.
 */
public final class MemoryProbe {
    private MemoryProbe() {
    }

    /**
     * One reading.
     *
     * @param heapUsed      heap used after GC, bytes
     * @param heapCommitted heap committed after GC, bytes
     * @param direct        direct memory in use, bytes (Netty's cleaner-less buffers + JDK direct buffers)
     * @param rss           resident set size, bytes (-1 when /proc is not there)
     */
    public record Reading(long heapUsed, long heapCommitted, long direct, long rss) {
    }

    /** Runs GC a few times, lets the process settle, then reads. */
    public static Reading settleAndRead() throws InterruptedException {
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(60);
        }
        Thread.sleep(200);
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        return new Reading(heap.getUsed(), heap.getCommitted(), directBytes(), rssBytes());
    }

    /** Direct memory in use: Netty's counter (buffers without a Cleaner) plus the JDK's "direct" pool. */
    public static long directBytes() {
        long netty = Math.max(0, PlatformDependent.usedDirectMemory());
        long jdk = 0;
        for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if ("direct".equals(b.getName())) {
                jdk = Math.max(0, b.getMemoryUsed());
            }
        }
        return netty + jdk;
    }

    /** VmRSS of this process in bytes, or -1. */
    public static long rssBytes() {
        return statusKb("VmRSS:") * 1024;
    }

    private static long statusKb(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key)) {
                    String v = line.substring(key.length()).trim().split("\\s+")[0];
                    return Long.parseLong(v);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** The soft limit on open files of this process, or -1 when unknown. */
    public static long openFileLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String v = line.substring("Max open files".length()).trim().split("\\s+")[0];
                    return "unlimited".equals(v) ? Long.MAX_VALUE : Long.parseLong(v);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}

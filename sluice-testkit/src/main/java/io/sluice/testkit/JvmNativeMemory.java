package io.sluice.testkit;

import java.lang.management.ManagementFactory;
import java.util.Set;
import javax.management.ObjectName;

/**
 * The JVM's own native memory, for memory benchmarks that take native memory as RSS growth:
 * what Native Memory Tracking ({@code -XX:NativeMemoryTracking=summary}) commits for the heap,
 * the JIT (code cache, compiler arenas), class metadata and symbols. Those move RSS by 3 to 30 MB
 * between two readings of an idle process as compilations come and go, and none of them grows
 * with connections. Thread stacks, direct buffers, GC structures and JNI handles are left out on
 * purpose: a client that keeps threads or buffers per connection pays for them, so they stay in
 * the RSS growth that is charged to it.
 *
 * <p><b>Thread-safety:</b> stateless; safe from any thread.
 */
public final class JvmNativeMemory {
    /** NMT categories counted as the JVM's own (names as NMT prints them). */
    static final Set<String> JVM_OWN = Set.of("Java Heap", "Class", "Code", "Compiler", "Arena Chunk", "Symbol",
            "Metaspace", "Module", "Shared class space", "Native Memory Tracking", "Tracing", "Logging", "Arguments",
            "Statistics", "Serviceability", "String Deduplication");

    private JvmNativeMemory() {
    }

    /** Committed bytes of the JVM's own categories in this process; -1 when NMT is off. */
    public static long ownCommitted() {
        try {
            String summary = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
                    new Object[] {new String[] {"summary"}}, new String[] {String[].class.getName()});
            return ownCommitted(summary);
        } catch (Exception e) {
            return -1;
        }
    }

    /**
     * Sums the committed kilobytes of the {@link #JVM_OWN} categories of a {@code VM.native_memory summary}
     * (lines like {@code -   Code (reserved=250740KB, committed=13824KB)}); -1 when it has none.
     */
    public static long ownCommitted(String summary) {
        long sum = 0;
        boolean any = false;
        for (String line : summary.split("\n")) {
            String t = line.trim();
            if (!t.startsWith("-")) {
                continue;
            }
            int open = t.indexOf('(');
            int at = t.indexOf("committed=", open);
            if (open < 0 || at < 0) {
                continue;
            }
            String category = t.substring(1, open).trim();
            if (!JVM_OWN.contains(category)) {
                continue;
            }
            int end = t.indexOf("KB", at);
            if (end < 0) {
                continue;
            }
            sum += Long.parseLong(t.substring(at + "committed=".length(), end).trim()) * 1024;
            any = true;
        }
        return any ? sum : -1;
    }
}

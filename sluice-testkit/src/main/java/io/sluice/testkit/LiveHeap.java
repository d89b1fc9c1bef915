package io.sluice.testkit;

/**
 * Reads the bytes of live objects from a {@code GC.class_histogram} output (the command runs a full
 * collection first). Memory benchmarks use it instead of the MXBean's "used" right after
 * {@code System.gc()}, which strayed by 1.5 to 5 MB between readings.
 *
 * <p><b>Thread-safety:</b> stateless; safe from any thread.
 */
public final class LiveHeap {
    private LiveHeap() {
    }

    /** The bytes of the histogram's "Total" line; {@link IllegalArgumentException} when it has none. */
    public static long totalBytes(String classHistogram) {
        for (String line : classHistogram.split("\n")) {
            String t = line.trim();
            if (t.startsWith("Total")) {
                String[] f = t.split("\\s+");
                return Long.parseLong(f[f.length - 1]);
            }
        }
        throw new IllegalArgumentException("no Total line in the class histogram");
    }
}

package io.sluice.cli.bench;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * The live progress line on stderr: phase, requests done (of total), rate, errors, connections,
 * rewritten in place with {@code \r} at most 4 times a second. Silent when disabled (e.g. under
 * {@code --json}).
 *
 * <p><b>Thread-safety:</b> counters are atomic; {@link #start} and {@link #finish} are called by the
 * runner's thread; the printing runs on its own daemon thread.
 */
public final class ProgressLine implements AutoCloseable {
    private final PrintStream out;
    private final boolean enabled;
    private final ScheduledExecutorService timer;
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private volatile String phase = "";
    private volatile long total;
    private volatile long startNanos;
    private volatile IntSupplier connections = () -> -1;
    private volatile String detail = "";
    private ScheduledFuture<?> task;
    private int lastWidth;

    public ProgressLine(PrintStream out, boolean enabled) {
        this.out = out;
        this.enabled = enabled;
        this.timer = enabled ? Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-bench-progress");
            t.setDaemon(true);
            return t;
        }) : null;
    }

    /** A new phase: counters reset; {@code total} 0 when unknown; {@code conns} reads open connections. */
    public synchronized void start(String phaseName, long totalRequests, IntSupplier conns) {
        phase = phaseName;
        total = totalRequests;
        done.set(0);
        errors.set(0);
        detail = "";
        connections = conns == null ? () -> -1 : conns;
        startNanos = System.nanoTime();
        if (enabled && task == null) {
            task = timer.scheduleAtFixedRate(this::print, 250, 250, TimeUnit.MILLISECONDS);
        }
    }

    public void done(long n) {
        done.addAndGet(n);
    }

    public void error() {
        errors.incrementAndGet();
    }

    /** Free text shown at the end of the line (e.g. "burst" / "idle"). */
    public void detail(String text) {
        detail = text == null ? "" : text;
    }

    public void connections(IntSupplier conns) {
        connections = conns == null ? () -> -1 : conns;
    }

    /** Ends the phase's line with a newline. */
    public synchronized void finish() {
        if (!enabled) {
            return;
        }
        print();
        out.print('\n');
        out.flush();
        lastWidth = 0;
        phase = "";
    }

    private synchronized void print() {
        if (phase.isEmpty()) {
            return;
        }
        double secs = Math.max(1e-9, (System.nanoTime() - startNanos) / 1e9);
        long d = done.get();
        int conns;
        try {
            conns = connections.getAsInt();
        } catch (RuntimeException e) {
            conns = -1;
        }
        String line = String.format(Locale.ROOT, "  %-22s %s  %,.0f/s  errors %d%s  %.1fs%s", phase,
                total > 0 ? String.format(Locale.ROOT, "%,d/%,d", d, total) : String.format(Locale.ROOT, "%,d", d),
                d / secs, errors.get(), conns >= 0 ? "  connections " + conns : "", secs,
                detail.isEmpty() ? "" : "  " + detail);
        StringBuilder sb = new StringBuilder("\r").append(line);
        for (int i = line.length(); i < lastWidth; i++) {
            sb.append(' ');
        }
        lastWidth = line.length();
        out.print(sb);
        out.flush();
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}

package io.sluice.cli.bench;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import io.sluice.cli.StatusLine;
import io.sluice.cli.Terminal;
import io.sluice.pool.PoolStats;

/**
 * The live progress line on stderr: phase, requests done (of total), rate, failed requests,
 * connections and failed connect attempts (so a target that refuses every connection shows it at
 * once, rather than "errors 0" while requests wait). On a terminal it is rewritten in place with
 * {@code \r} at most 4 times a second; elsewhere (a log, a pipe) it is a plain line every
 * {@link #PLAIN_EVERY_NANOS}. Silent when disabled (e.g. under {@code --json}).
 *
 * <p><b>Thread-safety:</b> counters are atomic; {@link #start} and {@link #finish} are called by the
 * runner's thread; the printing runs on its own daemon thread.
 */
public final class ProgressLine implements AutoCloseable {
    /** How often a plain (not terminal) progress line is printed. */
    static final long PLAIN_EVERY_NANOS = 5_000_000_000L;

    private final StatusLine line;
    private final boolean enabled;
    private final ScheduledExecutorService timer;
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private volatile String phase = "";
    private volatile long total;
    private volatile long startNanos;
    private volatile Supplier<PoolStats> pool = () -> null;
    /** Failed connects of {@link #pool} when the phase started, so the line counts this phase's only. */
    private volatile long failedConnectsAtStart;
    private volatile String detail = "";
    private ScheduledFuture<?> task;

    /** A progress line on {@code out}, which is a terminal or not as {@code terminal} says. */
    public ProgressLine(PrintStream out, Terminal terminal, boolean enabled) {
        this.line = new StatusLine(out, terminal, PLAIN_EVERY_NANOS);
        this.enabled = enabled;
        this.timer = enabled ? Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-bench-progress");
            t.setDaemon(true);
            return t;
        }) : null;
    }

    /**
     * A new phase: counters reset; {@code total} 0 when unknown; {@code poolStats} reads the pool
     * the phase loads (open connections, failed connects), or is null when there is none.
     */
    public synchronized void start(String phaseName, long totalRequests, Supplier<PoolStats> poolStats) {
        phase = phaseName;
        total = totalRequests;
        done.set(0);
        errors.set(0);
        detail = "";
        pool(poolStats);
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

    /** The pool the line reports on from now on (null: none). */
    public void pool(Supplier<PoolStats> poolStats) {
        Supplier<PoolStats> p = poolStats == null ? () -> null : poolStats;
        PoolStats first = read(p);
        failedConnectsAtStart = first == null ? 0 : first.failedConnects();
        pool = p;
    }

    private static PoolStats read(Supplier<PoolStats> p) {
        try {
            return p.get();
        } catch (RuntimeException e) {
            return null; // a pool closing under us: show no pool figures this time
        }
    }

    /** Ends the phase's line (its final state is always shown, on a terminal or in a log). */
    public synchronized void finish() {
        if (!enabled || phase.isEmpty()) {
            return;
        }
        line.end(render());
        phase = "";
    }

    private synchronized void print() {
        if (!phase.isEmpty()) {
            line.update(render(), System.nanoTime());
        }
    }

    /** The line as it reads now. */
    String render() {
        double secs = Math.max(1e-9, (System.nanoTime() - startNanos) / 1e9);
        long d = done.get();
        PoolStats st = read(pool);
        String poolPart = "";
        if (st != null) {
            long failedConnects = st.failedConnects() - failedConnectsAtStart;
            poolPart = "  connections " + st.open() + (failedConnects > 0
                    ? String.format(Locale.ROOT, "  failed connects %,d", failedConnects) : "");
        }
        return String.format(Locale.ROOT, "  %-22s %s  %,.0f/s  failed %d%s  %.1fs%s", phase,
                total > 0 ? String.format(Locale.ROOT, "%,d/%,d", d, total) : String.format(Locale.ROOT, "%,d", d),
                d / secs, errors.get(), poolPart, secs, detail.isEmpty() ? "" : "  " + detail);
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}

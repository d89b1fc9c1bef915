package io.sluice.testkit;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The barriers of one server (see {@link MockBarrier}). Each group collects its waiting answers until
 * it is complete or its deadline passes, then runs each answer on the event loop it came from and is
 * forgotten: a later request naming the same group starts a new generation.
 *
 * <p><b>Thread-safety:</b> thread-safe; {@link #groups} is guarded by {@code this}, answers run
 * outside the lock (on their own event loops). Owned by one {@link MockServerContext}.
 */
final class Barriers {

    /** Open groups by name; guarded by {@code this}. A group leaves the map when it is released. */
    private final Map<String, Group> groups = new HashMap<>();
    /** Counts groups completed and timed out. */
    private final StatsRecorder stats;

    Barriers(StatsRecorder stats) {
        this.stats = stats;
    }

    /**
     * Holds {@code answer} until the barrier is complete or times out; runs it at once when the
     * barrier has a single party.
     */
    void await(MockBarrier barrier, EventExecutor loop, Runnable answer) {
        List<Waiter> release = null;
        synchronized (this) {
            Group g = groups.get(barrier.group());
            if (g == null) {
                g = new Group(barrier.parties());
                groups.put(barrier.group(), g);
                Group first = g;
                // The deadline runs on the first arrival's loop; it only moves the waiters out.
                g.deadline = loop.schedule(() -> expire(barrier.group(), first), barrier.timeoutMs(),
                        TimeUnit.MILLISECONDS);
            }
            g.waiters.add(new Waiter(loop, answer));
            if (g.waiters.size() >= g.parties) {
                groups.remove(barrier.group());
                g.deadline.cancel(false);
                release = g.waiters;
                stats.barrierCompleted();
            }
        }
        if (release != null) {
            run(release);
        }
    }

    /** Waiting answers of all open groups (for tests and stats). */
    synchronized int waiting() {
        int n = 0;
        for (Group g : groups.values()) {
            n += g.waiters.size();
        }
        return n;
    }

    private void expire(String name, Group group) {
        List<Waiter> release;
        synchronized (this) {
            // Only this generation: a completed group was removed, and a new one may use the name.
            if (groups.get(name) != group) {
                return;
            }
            groups.remove(name);
            release = group.waiters;
            stats.barrierTimedOut();
        }
        run(release);
    }

    private static void run(List<Waiter> release) {
        for (Waiter w : release) {
            w.loop.execute(w.answer);
        }
    }

    /** One generation of a barrier; fields guarded by the enclosing {@link Barriers}. */
    private static final class Group {
        final int parties;
        final List<Waiter> waiters = new ArrayList<>();
        ScheduledFuture<?> deadline;

        Group(int parties) {
            this.parties = parties;
        }
    }

    private record Waiter(EventExecutor loop, Runnable answer) {
    }
}

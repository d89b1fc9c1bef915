package io.sluice.http.internal.client;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The client's default callback executor: where response futures complete, so that user code never
 * runs on an event loop.
 *
 * <p><b>Why not a cached thread pool.</b> A cached pool hands every task to a parked thread through a
 * {@code SynchronousQueue}: one unpark per response on the event loop and one park per response on
 * the callback thread. Against nginx that was 8 % of the event loop's time in {@code unpark} and as
 * much again parking, and half the requests/s of completing on the event loop itself. Here each
 * <em>lane</em> has one thread and its own queue, and a producer wakes the lane's thread only when it
 * sleeps: the responses of one event-loop cycle queue up behind one wake-up, and a busy lane takes
 * new tasks without any.
 *
 * <p><b>Callbacks that block.</b> A lane runs its tasks one after another, so a callback that blocks
 * (on I/O, or on another future whose completion is queued behind it) would hold up every task
 * behind it, and could wait for ever. A watchdog moves the queue of a lane whose current task has
 * run longer than {@link #STALL_NANOS} to a spill pool (a cached pool of daemon threads), and tasks
 * offered to such a lane go to the spill pool directly; so a blocked callback delays the others by
 * at most {@code STALL_NANOS} plus one watchdog period, as a thread-per-task pool would not delay
 * them at all, and nothing queued behind it waits on it. The watchdog sleeps unless some lane has a
 * task running with others queued behind it.
 *
 * <p><b>After {@link #shutdown()}</b> the lanes run what they hold and exit; tasks offered later run
 * on the spill pool, never rejected: a future that completes after the client closed (a late
 * connect failure, a close racing a retry) must still complete.
 *
 * <p><b>Thread-safety:</b> {@link #execute} may be called from any thread. <b>Ownership:</b> owns
 * its lane threads and watchdog (daemon threads; they end at {@link #shutdown()}) and the spill
 * pool's threads (daemon, ending after a second idle).
 */
public final class CallbackExecutor implements Executor {
    /** How long a task may run before the tasks behind it are moved elsewhere: 10 ms. */
    static final long STALL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** CAS on {@link Lane#sleeping}: exactly one waker pays for the unpark. */
    private static final VarHandle SLEEPING;

    static {
        try {
            SLEEPING = MethodHandles.lookup().findVarHandle(Lane.class, "sleeping", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Lane[] lanes;
    private final ThreadPoolExecutor spill;
    private final Thread watchdog;
    /** True while a watchdog pass is pending; set by whoever sees a busy lane with work queued. */
    private final AtomicBoolean watchArmed = new AtomicBoolean();
    private volatile boolean shutdown;
    /** Round-robin lane assignment for threads that have none yet. */
    private final AtomicInteger nextLane = new AtomicInteger();
    /** The lane each producer thread offers to, assigned on its first task (spreads event loops over lanes). */
    private final ThreadLocal<Lane> laneOfThread;

    /**
     * @param lanes      how many lanes (threads); at least 1
     * @param namePrefix thread-name prefix ({@code -lane-N}, {@code -spill-N}, {@code -watchdog} appended)
     */
    public CallbackExecutor(int lanes, String namePrefix) {
        if (lanes < 1) {
            throw new IllegalArgumentException("lanes must be >= 1, was " + lanes);
        }
        AtomicInteger spillThreads = new AtomicInteger();
        this.spill = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 1, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, namePrefix + "-spill-" + spillThreads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.lanes = new Lane[lanes];
        for (int i = 0; i < lanes; i++) {
            this.lanes[i] = new Lane(namePrefix + "-lane-" + i);
        }
        this.laneOfThread = ThreadLocal.withInitial(
                () -> this.lanes[Math.floorMod(nextLane.getAndIncrement(), this.lanes.length)]);
        this.watchdog = new Thread(this::watch, namePrefix + "-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        for (Lane l : this.lanes) {
            l.thread.start();
        }
    }

    @Override
    public void execute(Runnable task) {
        if (task == null) {
            throw new NullPointerException("task");
        }
        Lane lane = laneOfThread.get();
        if (shutdown || lane.stalled()) {
            spill.execute(task);
            return;
        }
        lane.queue.offer(task);
        if (lane.sleeping && SLEEPING.compareAndSet(lane, true, false)) {
            LockSupport.unpark(lane.thread);
        } else if (lane.runningSince != 0) {
            armWatchdog(); // queued behind a running task: make sure someone checks that it ends
        }
        if (shutdown) {
            // Raced with shutdown(): the lane may have exited without seeing this task.
            lane.drainTo(spill);
        }
    }

    /**
     * Lanes finish what they hold and exit; tasks offered from now on run on the spill pool. Does
     * not wait.
     */
    public void shutdown() {
        shutdown = true;
        for (Lane l : lanes) {
            LockSupport.unpark(l.thread);
        }
        LockSupport.unpark(watchdog);
    }

    /** Number of tasks moved to or run on the spill pool so far (tests and metrics). */
    public long spilled() {
        return spill.getTaskCount();
    }

    private void armWatchdog() {
        if (!watchArmed.get() && watchArmed.compareAndSet(false, true)) {
            LockSupport.unpark(watchdog);
        }
    }

    /** The watchdog: sleeps until armed, then checks every lane once per stall period while any is busy with work queued. */
    private void watch() {
        while (!shutdown) {
            if (!watchArmed.get()) {
                LockSupport.park(this);
                continue;
            }
            LockSupport.parkNanos(this, STALL_NANOS);
            watchArmed.set(false);
            boolean again = false;
            long now = System.nanoTime();
            for (Lane l : lanes) {
                long since = l.runningSince;
                if (since == 0 || l.queue.isEmpty()) {
                    continue;
                }
                if (now - since >= STALL_NANOS) {
                    l.drainTo(spill); // its current task is stuck; nothing behind it waits on it
                } else {
                    again = true;
                }
            }
            if (again) {
                watchArmed.set(true);
            }
        }
    }

    /** One thread and its queue. */
    private final class Lane implements Runnable {
        /** Offered by any thread, taken by {@link #thread} or (when stalled or shut down) drained to the spill pool. */
        final ConcurrentLinkedQueue<Runnable> queue = new ConcurrentLinkedQueue<>();
        final Thread thread;
        /**
         * True while {@link #thread} is parked or about to park. Set only by the lane's thread; cleared by
         * whoever wakes it (a CAS, so that exactly one producer pays the unpark).
         */
        volatile boolean sleeping;
        /** {@code System.nanoTime()} when the current task started, 0 between tasks. Written by the lane's thread only. */
        volatile long runningSince;

        Lane(String name) {
            this.thread = new Thread(this, name);
            thread.setDaemon(true);
        }

        /** True when the current task has run longer than the stall limit. */
        boolean stalled() {
            long since = runningSince;
            return since != 0 && System.nanoTime() - since >= STALL_NANOS;
        }

        void drainTo(Executor target) {
            for (Runnable r; (r = queue.poll()) != null; ) {
                target.execute(r);
            }
        }

        @Override
        public void run() {
            for (;;) {
                Runnable task = queue.poll();
                if (task != null) {
                    if (!queue.isEmpty()) {
                        armWatchdog(); // others wait behind this one
                    }
                    runningSince = Math.max(1, System.nanoTime());
                    try {
                        task.run();
                    } catch (Throwable t) {
                        Thread.UncaughtExceptionHandler h = thread.getUncaughtExceptionHandler();
                        if (h != null) {
                            h.uncaughtException(thread, t);
                        }
                    } finally {
                        runningSince = 0;
                    }
                    continue;
                }
                if (shutdown) {
                    drainTo(spill); // a producer that raced shutdown() may have queued after our poll
                    return;
                }
                sleeping = true;
                if (!queue.isEmpty() || shutdown) {
                    // A task arrived between the poll and announcing sleep: take it. If a producer already
                    // cleared the flag, its unpark leaves a permit that makes a later park return at once.
                    SLEEPING.compareAndSet(this, true, false);
                    continue;
                }
                while (sleeping && !shutdown) {
                    LockSupport.park(this);
                }
            }
        }
    }
}

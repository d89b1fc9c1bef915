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
import java.util.concurrent.atomic.AtomicLong;
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
 * new tasks without any. A lane whose queue is empty takes tasks from the others' queues before it
 * sleeps, and a producer that finds a backlog behind a busy lane wakes a sleeping one, so no lane
 * idles beside another's backlog (an event loop with more streams than the others would otherwise
 * get one core's worth of callbacks: 100 000 SSE streams ran into body idle timeouts that way).
 *
 * <p><b>Callbacks that block.</b> A lane runs its tasks one after another, so a callback that blocks
 * (on I/O, or on another future whose completion is queued behind it) holds up the tasks behind it,
 * and could wait for ever. A watchdog looks at the lanes every {@link #STALL_NANOS} while work is
 * queued behind a running task. A worker is <em>stalled</em> when the watchdog finds it in the same
 * task on two passes and that task has run for {@code STALL_NANOS}; two passes, so that a GC pause
 * (which stops every thread at once) does not make every lane look stalled. With work queued the
 * watchdog wakes a sleeping lane to take it, and when every worker is stalled it starts one
 * <em>helper</em> (a pooled daemon thread) that takes queued tasks like a lane and ends when none
 * are left. A helper that blocks in turn is a stalled worker too, so blocked callbacks add one thread
 * per watchdog pass, never one per task, and nothing queued behind a blocked callback waits on it
 * for more than about two passes. Helpers are bounded ({@link #MAX_HELPERS}): callbacks that block
 * for ever make the executor stop adding threads there, with one warning, rather than exhaust the JVM.
 *
 * <p><b>After {@link #shutdown()}</b> the lanes run what they hold and exit; tasks offered later run
 * on the helper pool, never rejected: a future that completes after the client closed (a late
 * connect failure, a close racing a retry) must still complete.
 *
 * <p><b>Thread-safety:</b> {@link #execute} may be called from any thread. <b>Ownership:</b> owns
 * its lane threads and watchdog (daemon threads; they end at {@link #shutdown()}) and the helper
 * pool's threads (daemon, ending after a second idle).
 */
public final class CallbackExecutor implements Executor {
    /** How long a task may run before the tasks behind it are taken elsewhere: 10 ms. */
    static final long STALL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /**
     * At most this many helpers at once: blocked callbacks that never end must not grow threads until
     * the JVM can make no more. The same bound as a fork-join pool's compensating threads; past it,
     * queued work waits for a worker to come free (logged once).
     */
    static final int MAX_HELPERS = 256;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CallbackExecutor.class);
    /** CAS on {@link Lane#sleeping}: exactly one waker pays for the unpark. */
    private static final VarHandle SLEEPING;

    static {
        try {
            SLEEPING = MethodHandles.lookup().findVarHandle(Lane.class, "sleeping", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long stallNanos;
    private final int maxHelpers;
    /** Set once, by the watchdog, the first time the helper bound or the JVM refused a helper: logged once. Watchdog-confined. */
    private boolean helperLimitLogged;
    private final Lane[] lanes;
    /** Runs helpers, and tasks offered after shutdown. */
    private final ThreadPoolExecutor helperPool;
    /** Helpers running now; written by the watchdog (add) and the helpers (remove). */
    private final ConcurrentLinkedQueue<Worker> helpers = new ConcurrentLinkedQueue<>();
    private final AtomicLong helpersStarted = new AtomicLong();
    private final Thread watchdog;
    /** True while a watchdog pass is pending; set by whoever sees work queued behind a running task. */
    private final AtomicBoolean watchArmed = new AtomicBoolean();
    private volatile boolean shutdown;

    /**
     * @param lanes      how many lanes (threads); at least 1
     * @param namePrefix thread-name prefix ({@code -lane-N}, {@code -helper-N}, {@code -watchdog} appended)
     */
    public CallbackExecutor(int lanes, String namePrefix) {
        this(lanes, namePrefix, STALL_NANOS, MAX_HELPERS);
    }

    /** @param stallNanos how long a task may run before the tasks behind it are taken elsewhere (tests vary it) */
    CallbackExecutor(int lanes, String namePrefix, long stallNanos) {
        this(lanes, namePrefix, stallNanos, MAX_HELPERS);
    }

    /** @param maxHelpers at most this many helpers at once (tests lower it) */
    CallbackExecutor(int lanes, String namePrefix, long stallNanos, int maxHelpers) {
        if (lanes < 1) {
            throw new IllegalArgumentException("lanes must be >= 1, was " + lanes);
        }
        this.stallNanos = stallNanos;
        this.maxHelpers = maxHelpers;
        AtomicInteger helperThreads = new AtomicInteger();
        this.helperPool = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 1, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, namePrefix + "-helper-" + helperThreads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.lanes = new Lane[lanes];
        for (int i = 0; i < lanes; i++) {
            this.lanes[i] = new Lane(namePrefix + "-lane-" + i);
        }
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
        if (shutdown) {
            helperPool.execute(task);
            return;
        }
        Lane lane = laneOf(Thread.currentThread());
        lane.queue.offer(task);
        if (lane.sleeping && SLEEPING.compareAndSet(lane, true, false)) {
            LockSupport.unpark(lane.thread);
        } else if (lane.runningSince != 0) {
            armWatchdog(); // queued behind a running task: make sure someone checks that it ends
            if (lane.queue.peek() != task) {
                wakeASleeper(); // a backlog: a sleeping lane steals from it rather than idle beside it
            }
        }
        if (shutdown) {
            // Raced with shutdown(): the lane may have exited without seeing this task.
            lane.drainTo(helperPool);
        }
    }

    /**
     * The lane a producer thread offers to: by thread id, so that one event loop's completions keep
     * to one lane (event-loop threads are created together, so their ids are consecutive and spread
     * over the lanes). Not a {@code ThreadLocal}: a user thread that once completed a future here would
     * keep a closed client's executor reachable through its value for as long as the thread lives.
     */
    private Lane laneOf(Thread t) {
        for (Lane l : lanes) {
            if (l.thread == t) {
                return l; // a task submitted by a lane's own task stays on that lane: no second wake-up
            }
        }
        return lanes[(int) Math.floorMod(t.getId(), (long) lanes.length)];
    }

    /**
     * Lanes finish what they hold and exit; tasks offered from now on run on the helper pool. Does
     * not wait.
     */
    public void shutdown() {
        shutdown = true;
        for (Lane l : lanes) {
            // A lane blocked in a callback would never drain its queue, and the watchdog stops now: what waits
            // behind it (possibly the very completion it waits for) goes to the helper pool. poll() hands each
            // task to one taker only.
            l.drainTo(helperPool);
            LockSupport.unpark(l.thread);
        }
        LockSupport.unpark(watchdog);
    }

    /** Helpers started so far because every worker was stalled (tests and metrics). */
    public long helpersStarted() {
        return helpersStarted.get();
    }

    /** Wakes one sleeping lane, if any; it will find the backlog by stealing. True if one was woken. */
    private boolean wakeASleeper() {
        for (Lane l : lanes) {
            if (l.sleeping && SLEEPING.compareAndSet(l, true, false)) {
                LockSupport.unpark(l.thread);
                return true;
            }
        }
        return false;
    }

    /** A task from any lane's queue, {@code preferred}'s first; null when every queue is empty. */
    private Runnable take(Lane preferred) {
        if (preferred != null) {
            Runnable r = preferred.queue.poll();
            if (r != null) {
                return r;
            }
        }
        for (Lane l : lanes) {
            if (l != preferred) {
                Runnable r = l.queue.poll();
                if (r != null) {
                    return r;
                }
            }
        }
        return null;
    }

    private boolean anyQueued() {
        for (Lane l : lanes) {
            if (!l.queue.isEmpty()) {
                return true;
            }
        }
        return false;
    }

    private void armWatchdog() {
        if (!watchArmed.get() && watchArmed.compareAndSet(false, true)) {
            LockSupport.unpark(watchdog);
        }
    }

    /**
     * The watchdog: sleeps until armed, then every stall period while work is queued: wakes a sleeping
     * lane for it, or, when every lane and helper is stalled, starts a helper.
     */
    private void watch() {
        while (!shutdown) {
            if (!watchArmed.get()) {
                LockSupport.park(this);
                continue;
            }
            LockSupport.parkNanos(this, stallNanos);
            watchArmed.set(false);
            if (!anyQueued()) {
                continue; // whoever queues behind a running task next arms the watchdog again
            }
            watchArmed.set(true); // work is queued: look again next period
            if (wakeASleeper()) {
                continue;
            }
            long now = System.nanoTime();
            boolean allStalled = true;
            Lane stalledWithBacklog = null;
            for (Lane l : lanes) {
                boolean stalled = l.stalled(now, stallNanos); // once per worker per pass: it records what it saw
                allStalled &= stalled;
                if (stalled && stalledWithBacklog == null && !l.queue.isEmpty()) {
                    stalledWithBacklog = l;
                }
            }
            boolean helpersStalled = true;
            for (Worker h : helpers) {
                helpersStalled &= h.stalled(now, stallNanos);
            }
            // Every worker stuck; or a stuck lane's own backlog that the other lanes, busy with their own
            // queues, never get to (they take their own queue first), and no helper free to take it.
            if ((allStalled || stalledWithBacklog != null) && helpersStalled) {
                startHelper(stalledWithBacklog);
            }
        }
    }

    /**
     * Starts a helper that takes {@code stuck}'s queue first (a helper that took the first queue it found
     * could spend itself on a busy lane's standing backlog while the stuck lane's waited), then any.
     * Watchdog thread only.
     */
    private void startHelper(Lane stuck) {
        if (helpers.size() >= maxHelpers) {
            logHelperLimitOnce("all " + maxHelpers + " callback helper threads are blocked in callbacks; "
                    + "queued completions wait until one returns (a callback that blocks for ever?)", null);
            return;
        }
        Worker helper = new Worker();
        helpers.add(helper);
        try {
            helperPool.execute(() -> {
                try {
                    for (Runnable r; (r = take(stuck)) != null; ) {
                        helper.begin();
                        helper.run(r, Thread.currentThread());
                    }
                } finally {
                    helpers.remove(helper);
                }
            });
            helpersStarted.incrementAndGet();
        } catch (RuntimeException | OutOfMemoryError e) {
            // The JVM could not make a thread: the watchdog stays alive and tries again next pass.
            helpers.remove(helper);
            logHelperLimitOnce("could not start a callback helper thread: " + e, e);
        }
    }

    private void logHelperLimitOnce(String message, Throwable cause) {
        if (!helperLimitLogged) {
            helperLimitLogged = true;
            LOG.warn(message, cause);
        }
    }

    /** What the watchdog needs to know of a thread running tasks: which task, since when. */
    private static class Worker {
        /** {@code System.nanoTime()} when the current task started, 0 between tasks. Written by the worker's thread only. */
        volatile long runningSince;
        /** Tasks started; tells the watchdog whether it is still the same task. Written by the worker's thread only. */
        volatile long started;
        /** {@link #started} at the watchdog's last look. Watchdog-confined. */
        private long seenAtLastPass = -1;

        /**
         * Marks a task as started. Called before the worker looks at the queue behind it: a producer writes the
         * queue and then reads {@link #runningSince}, the worker writes it and then reads the queue, so one of
         * them sees the other and the watchdog gets armed (the other order lost the arm).
         */
        final void begin() {
            started++;
            runningSince = Math.max(1, System.nanoTime());
        }

        /**
         * Runs a task {@link #begin() begun}; a task's exception does not escape (nor does one of the thread's
         * uncaught-exception handler), and an interrupt it leaves is cleared, as {@code ThreadPoolExecutor}
         * does: it would reach the next task, and make an idle lane's park return at once, spinning.
         */
        final void run(Runnable task, Thread self) {
            try {
                task.run();
            } catch (Throwable t) {
                try {
                    Thread.UncaughtExceptionHandler h = self.getUncaughtExceptionHandler();
                    if (h != null) {
                        h.uncaughtException(self, t);
                    }
                } catch (Throwable ignored) {
                    // a handler that throws must not end the worker
                }
            } finally {
                runningSince = 0;
                Thread.interrupted();
            }
        }

        /**
         * True when this worker is in the same task as at the watchdog's last pass and that task has run
         * {@code stallNanos}. Called by the watchdog only.
         */
        final boolean stalled(long now, long stallNanos) {
            long since = runningSince;
            long seq = started;
            boolean sameTask = seq == seenAtLastPass;
            seenAtLastPass = seq;
            return since != 0 && sameTask && now - since >= stallNanos;
        }
    }

    /** One thread and its queue. */
    private final class Lane extends Worker implements Runnable {
        /** Offered by any thread; taken by this lane, by idle lanes and helpers, or (at shutdown) moved to the helper pool. */
        final ConcurrentLinkedQueue<Runnable> queue = new ConcurrentLinkedQueue<>();
        final Thread thread;
        /**
         * True while {@link #thread} is parked or about to park. Set only by the lane's thread; cleared by
         * whoever wakes it (a CAS, so that exactly one producer pays the unpark).
         */
        volatile boolean sleeping;

        Lane(String name) {
            this.thread = new Thread(this, name);
            thread.setDaemon(true);
        }

        void drainTo(Executor target) {
            for (Runnable r; (r = queue.poll()) != null; ) {
                target.execute(r);
            }
        }

        @Override
        public void run() {
            for (;;) {
                Runnable task = take(this); // its own queue first; a lane never idles beside another's backlog
                if (task != null) {
                    begin();
                    if (!queue.isEmpty()) {
                        armWatchdog(); // others wait behind this one
                    }
                    run(task, thread);
                    continue;
                }
                if (shutdown) {
                    drainTo(helperPool); // a producer that raced shutdown() may have queued after our poll
                    return;
                }
                sleeping = true;
                if (anyQueued() || shutdown) {
                    // A task arrived between the poll and announcing sleep: take it. If a producer already
                    // cleared the flag, its unpark leaves a permit that makes a later park return at once.
                    SLEEPING.compareAndSet(this, true, false);
                    continue;
                }
                while (sleeping && !shutdown) {
                    LockSupport.park(this);
                    Thread.interrupted(); // an interrupted thread's park returns at once: never spin on it
                }
            }
        }
    }
}

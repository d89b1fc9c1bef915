package io.sluice.bench;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Floors for {@link PoolAcquireBenchmark}, run in the same JVM and on the same machine so
 * that a noisy machine shows up here too: a bare CAS pair (take a slot, give it back) and
 * an {@link ArrayBlockingQueue} poll + offer of one of four objects (the simplest locked
 * pool). One thread, average nanoseconds per pair.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class BaselineBenchmark {

    private final AtomicInteger slot = new AtomicInteger();
    private ArrayBlockingQueue<Object> queue;

    @Setup(Level.Trial)
    public void setUp() {
        queue = new ArrayBlockingQueue<>(PoolAcquireBenchmark.CONNECTIONS);
        for (int i = 0; i < PoolAcquireBenchmark.CONNECTIONS; i++) {
            queue.offer(new PoolAcquireBenchmark.FakeConnection());
        }
    }

    /** compareAndSet 0→1 then 1→0: the least an exclusive slot can cost. */
    @Benchmark
    public boolean casPair() {
        return slot.compareAndSet(0, 1) & slot.compareAndSet(1, 0);
    }

    /** poll() then offer(): a lock-based pool of idle objects. */
    @Benchmark
    public void arrayBlockingQueuePollOffer(Blackhole bh) {
        Object c = queue.poll();
        bh.consume(c);
        queue.offer(c);
    }
}

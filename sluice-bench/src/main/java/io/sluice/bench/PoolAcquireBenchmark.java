package io.sluice.bench;

import io.sluice.pool.ConnectionManager;
import io.sluice.pool.Lease;
import io.sluice.pool.Pool;
import io.sluice.pool.PoolConfig;
import io.sluice.pool.PoolStats;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.commons.pool2.BasePooledObjectFactory;
import org.apache.commons.pool2.PooledObject;
import org.apache.commons.pool2.impl.DefaultPooledObject;
import org.apache.commons.pool2.impl.GenericObjectPool;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.infra.Blackhole;
import reactor.core.publisher.Mono;
import reactor.pool.InstrumentedPool;
import reactor.pool.PoolBuilder;
import reactor.pool.PooledRef;

/**
 * Acquire + release of an idle connection: sluice's {@link Pool} against Apache
 * commons-pool2 and reactor-pool, in the same JVM build and the same run.
 *
 * <h2>What is measured</h2>
 * <ul>
 *   <li>{@link #acquireRelease}: one thread, average nanoseconds per acquire + release of
 *   an idle connection.</li>
 *   <li>{@link #acquireReleaseContended}: two threads ({@code @Threads(2)}) sharing one pool;
 *   the score is the average time of one thread's acquire + release while the other
 *   thread does the same.</li>
 * </ul>
 * Every pool holds {@value #CONNECTIONS} connections, all opened before measurement, so
 * neither method ever waits for a slot or opens a connection: this is the idle-slot fast
 * path. The connection is a trivial object ({@link FakeConnection}); opening it completes at
 * once, validating it completes at once, it is never broken and its capacity is 1.
 *
 * <h2>How the pools are configured (as comparably as possible)</h2>
 * <ul>
 *   <li><b>sluice</b>: {@code Pool.builder(manager).config(PoolConfig.builder()
 *   .maxConnections(4).minIdle(4).validationBypassWindow(500 ms))}, pre-warmed with
 *   {@code pool.warmUp().join()}. The headline is the asynchronous API:
 *   {@code pool.acquire().join()} (the future is already completed when a slot is free),
 *   released by {@code lease.close()}. The 500 ms bypass window is the default: a
 *   connection idle longer than that is validated on checkout; in a tight loop none is, and
 *   the teardown prints how many validations ran (expected: 0). Leak detection is off (the
 *   default); the coarse clock and the 1 s housekeeping run as in production.</li>
 *   <li><b>commons-pool2</b>: {@code GenericObjectPool} with maxTotal = maxIdle = minIdle = 4,
 *   {@code testOnCreate/testOnBorrow/testOnReturn/testWhileIdle = false} (no validation),
 *   {@code blockWhenExhausted = true}, {@code fairness = false}, {@code jmxEnabled = false},
 *   no evictor thread, LIFO (the default); pre-warmed with {@code addObjects(4)}; acquired
 *   with {@code borrowObject()}, released with {@code returnObject(c)}.</li>
 *   <li><b>reactor-pool</b>: {@code PoolBuilder.from(Mono.fromSupplier(FakeConnection::new))
 *   .sizeBetween(4, 4).buildPool()}, pre-warmed with {@code warmup().block()}; acquired with
 *   {@code acquire().block()} and released with {@code release().block()}. reactor-pool's
 *   callback style (subscribing and releasing inside the subscriber) does not finish under
 *   JMH's synchronized iterations on two threads (its work-stealing drain loop keeps one
 *   {@code subscribe()} call from returning), so it is measured with {@code block()} on
 *   both methods; with an idle resource {@code block()} returns without parking.</li>
 * </ul>
 * Each result is consumed by a {@link Blackhole}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PoolAcquireBenchmark {

    /** Connections in every pool. */
    static final int CONNECTIONS = 4;

    @Param({"sluice", "commons-pool2", "reactor-pool"})
    public String pool;

    private Harness harness;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        harness = switch (pool) {
            case "sluice" -> new SluiceHarness();
            case "commons-pool2" -> new CommonsPool2Harness();
            case "reactor-pool" -> new ReactorPoolHarness();
            default -> throw new IllegalArgumentException("unknown pool: " + pool);
        };
        // One round trip before measuring, so that a misconfigured pool fails here and not in a loop.
        harness.acquireRelease(new Blackhole(
                "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous."));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        harness.close();
    }

    /** One thread: acquire an idle connection, use it, release it. */
    @Benchmark
    public void acquireRelease(Blackhole bh) throws Exception {
        harness.acquireRelease(bh);
    }

    /** Two threads sharing one pool of {@value #CONNECTIONS} connections. */
    @Benchmark
    @Threads(2)
    public void acquireReleaseContended(Blackhole bh) throws Exception {
        harness.acquireRelease(bh);
    }

    // ------------------------------------------------------------------ the connection

    /** The pooled "connection": a trivial object. */
    public static final class FakeConnection {
        private static final AtomicInteger IDS = new AtomicInteger();
        final int id = IDS.incrementAndGet();

        public int id() {
            return id;
        }
    }

    /** Sluice's SPI over {@link FakeConnection}; counts validations so a run can prove there were none. */
    static final class FakeManager implements ConnectionManager<FakeConnection> {
        private static final CompletableFuture<Void> VALID = CompletableFuture.completedFuture(null);
        final AtomicLong connects = new AtomicLong();
        final AtomicLong validations = new AtomicLong();

        @Override
        public CompletionStage<FakeConnection> connect(io.sluice.pool.ConnectionEvents<FakeConnection> events) {
            connects.incrementAndGet();
            return CompletableFuture.completedFuture(new FakeConnection());
        }

        @Override
        public CompletionStage<Void> validate(FakeConnection connection) {
            validations.incrementAndGet();
            return VALID;
        }

        @Override
        public boolean hasBroken(FakeConnection connection) {
            return false;
        }

        @Override
        public int capacity(FakeConnection connection) {
            return 1;
        }

        @Override
        public void close(FakeConnection connection) {
        }
    }

    // ------------------------------------------------------------------ harnesses

    /** One pool under test. Each JMH fork runs one {@code pool} value, so the call site stays monomorphic. */
    abstract static class Harness implements AutoCloseable {
        abstract void acquireRelease(Blackhole bh) throws Exception;

        @Override
        public abstract void close();
    }

    static final class SluiceHarness extends Harness {
        final FakeManager manager = new FakeManager();
        final Pool<FakeConnection> pool;

        SluiceHarness() {
            pool = sluicePool(manager);
        }

        @Override
        void acquireRelease(Blackhole bh) {
            Lease<FakeConnection> lease = pool.acquire().join();
            bh.consume(lease.connection());
            lease.close();
        }

        @Override
        public void close() {
            PoolStats s = pool.stats();
            System.out.println();
            System.out.println("[sluice] connects=" + manager.connects.get() + " validations="
                    + manager.validations.get() + " acquisitions=" + s.acquisitions() + " misses=" + s.misses()
                    + " open=" + s.open());
            pool.close();
        }
    }

    /** The sluice pool as configured for every benchmark in this module. */
    static Pool<FakeConnection> sluicePool(FakeManager manager) {
        Pool<FakeConnection> p = Pool.builder(manager)
                .name("bench")
                .config(PoolConfig.builder()
                        .maxConnections(CONNECTIONS)
                        .minIdle(CONNECTIONS)
                        .validationBypassWindow(Duration.ofMillis(500))
                        .build())
                .build();
        p.warmUp().join();
        if (p.stats().open() != CONNECTIONS) {
            throw new IllegalStateException("sluice pool not warm: " + p.stats());
        }
        return p;
    }

    static final class CommonsPool2Harness extends Harness {
        final GenericObjectPool<FakeConnection> pool;

        CommonsPool2Harness() throws Exception {
            GenericObjectPoolConfig<FakeConnection> c = new GenericObjectPoolConfig<>();
            c.setMaxTotal(CONNECTIONS);
            c.setMaxIdle(CONNECTIONS);
            c.setMinIdle(CONNECTIONS);
            c.setTestOnCreate(false);
            c.setTestOnBorrow(false);
            c.setTestOnReturn(false);
            c.setTestWhileIdle(false);
            c.setBlockWhenExhausted(true);
            c.setFairness(false);
            c.setJmxEnabled(false);
            c.setTimeBetweenEvictionRuns(Duration.ofMillis(-1)); // no evictor thread
            c.setLifo(true);
            pool = new GenericObjectPool<>(new BasePooledObjectFactory<>() {
                @Override
                public FakeConnection create() {
                    return new FakeConnection();
                }

                @Override
                public PooledObject<FakeConnection> wrap(FakeConnection obj) {
                    return new DefaultPooledObject<>(obj);
                }
            }, c);
            pool.addObjects(CONNECTIONS);
            if (pool.getNumIdle() != CONNECTIONS) {
                throw new IllegalStateException("commons-pool2 not warm: idle=" + pool.getNumIdle());
            }
        }

        @Override
        void acquireRelease(Blackhole bh) throws Exception {
            FakeConnection c = pool.borrowObject();
            bh.consume(c);
            pool.returnObject(c);
        }

        @Override
        public void close() {
            System.out.println();
            System.out.println("[commons-pool2] created=" + pool.getCreatedCount() + " borrowed="
                    + pool.getBorrowedCount() + " idle=" + pool.getNumIdle());
            pool.close();
        }
    }

    static final class ReactorPoolHarness extends Harness {
        final InstrumentedPool<FakeConnection> pool;

        ReactorPoolHarness() {
            pool = PoolBuilder.from(Mono.fromSupplier(FakeConnection::new))
                    .sizeBetween(CONNECTIONS, CONNECTIONS)
                    .buildPool();
            pool.warmup().block();
            if (pool.metrics().idleSize() != CONNECTIONS) {
                throw new IllegalStateException("reactor-pool not warm: idle=" + pool.metrics().idleSize());
            }
        }

        @Override
        void acquireRelease(Blackhole bh) {
            PooledRef<FakeConnection> ref = pool.acquire().block();
            bh.consume(ref.poolable());
            ref.release().block();
        }

        @Override
        public void close() {
            System.out.println();
            System.out.println("[reactor-pool] allocated=" + pool.metrics().allocatedSize() + " idle="
                    + pool.metrics().idleSize());
            pool.disposeLater().block();
        }
    }
}

package io.sluice.cli.soak;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts Netty's buffer leak reports during a soak. {@link #install()} turns on PARANOID detection
 * (every buffer tracked) and installs a {@link ResourceLeakDetectorFactory} whose detectors count
 * each report before logging it as usual.
 *
 * <p>Netty creates the {@code ByteBuf} detector once, when its buffer classes load, so
 * {@link #install()} must run before any buffer is allocated in the JVM; {@link #active()} says
 * whether it did (the soak command installs it in its static initializer, before the CLI touches
 * Netty). Thread-safe: static atomics.
 */
public final class LeakCounter {
    private static final AtomicLong LEAKS = new AtomicLong();
    private static final AtomicBoolean INSTALLED = new AtomicBoolean();
    private static volatile boolean byteBufTracked;

    private LeakCounter() {
    }

    /** Idempotent; see the class comment for when it must run. */
    public static void install() {
        if (!INSTALLED.compareAndSet(false, true)) {
            return;
        }
        // The property covers detectors created later from their own static state; setLevel the rest.
        System.setProperty("io.netty.leakDetection.level", "paranoid");
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new CountingFactory());
    }

    /** Whether ByteBuf leaks are being counted (the factory was in place when Netty created its detector). */
    public static boolean active() {
        if (!byteBufTracked) {
            // Loading the buffer classes now creates the detector through our factory if no one did before.
            ByteBufAllocator.DEFAULT.buffer(1).release();
        }
        return byteBufTracked;
    }

    /** Leak reports so far. */
    public static long leaks() {
        return LEAKS.get();
    }

    /**
     * Makes pending leaks visible: Netty reports a leaked buffer only after the GC has collected it
     * and a later allocation polls the detector's queue, so collect, then allocate, a few times.
     */
    public static void flush() throws InterruptedException {
        for (int round = 0; round < 3; round++) {
            System.gc();
            Thread.sleep(100);
            for (int i = 0; i < 256; i++) {
                ByteBuf b = ByteBufAllocator.DEFAULT.buffer(16);
                b.release();
            }
        }
    }

    private static final class CountingFactory extends ResourceLeakDetectorFactory {
        @Override
        @SuppressWarnings("deprecation")
        public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval,
                long maxActive) {
            return newResourceLeakDetector(resource, samplingInterval);
        }

        @Override
        public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval) {
            if (ByteBuf.class.isAssignableFrom(resource)) {
                byteBufTracked = true;
            }
            return new CountingDetector<>(resource, samplingInterval);
        }
    }

    private static final class CountingDetector<T> extends ResourceLeakDetector<T> {
        CountingDetector(Class<?> resource, int samplingInterval) {
            super(resource, samplingInterval);
        }

        @Override
        protected void reportTracedLeak(String resourceType, String records) {
            LEAKS.incrementAndGet();
            super.reportTracedLeak(resourceType, records);
        }

        @Override
        protected void reportUntracedLeak(String resourceType) {
            LEAKS.incrementAndGet();
            super.reportUntracedLeak(resourceType);
        }
    }
}

package io.sluice.testkit.junit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.Slf4JLoggerFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty's leak detector has reported a leaked buffer: after the class (after
 * its {@code @AfterAll} methods), it provokes the detector (garbage collection plus fresh tracked
 * allocations, so that leaked buffers are noticed) and fails on any {@code LEAK:} report so far.
 * Use it with {@code @ExtendWith(NettyLeakCheck.class)} where a class has no class-wide mock;
 * {@link MockProviderExtension} runs the same check after closing its mock.
 *
 * <p>The count is the JVM's: a leak noticed late (the detector reports a buffer only once it has been
 * garbage collected) fails the class that is running then and every class checked after it. The
 * detector reports only what it samples: the modules run their tests with
 * {@code -Dio.netty.leakDetection.level=paranoid}, which tracks every buffer.
 *
 * <p>Reports are counted through Logback ({@link LeakCountingAppender}), so Netty must log through
 * SLF4J to Logback; otherwise the check fails rather than pass without counting anything. A report
 * whose access records carry {@link #DELIBERATE} (a {@code touch} hint) comes from a test that leaks
 * on purpose to prove the wiring, and is counted apart.
 */
public final class NettyLeakCheck implements BeforeAllCallback, AfterAllCallback {

    /** Touch hint marking a buffer leaked on purpose by a wiring test; its report never fails a class. */
    public static final String DELIBERATE = "sluice-deliberate-leak-marker";

    private static final AtomicInteger LEAKS = new AtomicInteger();
    private static final AtomicInteger DELIBERATE_LEAKS = new AtomicInteger();
    private static final AtomicReference<String> FIRST_LEAK = new AtomicReference<>();
    private static volatile boolean installed;

    /** For {@code @ExtendWith(NettyLeakCheck.class)}. */
    public NettyLeakCheck() {
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        install();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        assertNoLeaks();
    }

    /**
     * Makes sure Netty's leak reports are counted from now on.
     *
     * @throws IllegalStateException when Netty does not log through SLF4J to Logback here
     */
    public static void install() {
        if (installed) {
            return;
        }
        if (!(InternalLoggerFactory.getDefaultFactory() instanceof Slf4JLoggerFactory)) {
            throw notCountable("Netty logs through " + InternalLoggerFactory.getDefaultFactory().getClass().getName(), null);
        }
        try {
            LeakCountingAppender.attachUnlessPresent();
        } catch (NoClassDefFoundError | ClassCastException e) {
            throw notCountable("SLF4J is not bound to Logback", e);
        }
        installed = true;
    }

    private static IllegalStateException notCountable(String why, Throwable cause) {
        return new IllegalStateException("the Netty leak check counts Netty's LEAK reports through Logback, but " + why
                + ": put ch.qos.logback:logback-classic on the test classpath (or turn the leak check off)", cause);
    }

    /** Provokes the leak detector (garbage collection plus fresh tracked allocations) so that leaked buffers are reported. */
    public static void provokeReports() {
        for (int i = 0; i < 3; i++) {
            System.gc();
            for (int j = 0; j < 200; j++) {
                ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(16);
                b.release();
            }
        }
    }

    /**
     * Provokes the leak detector and fails on any real {@code LEAK:} report so far in this JVM.
     *
     * @throws AssertionError naming the number of reports and quoting the first
     */
    public static void assertNoLeaks() {
        install();
        provokeReports();
        int leaks = LEAKS.get();
        if (leaks > 0) {
            throw new AssertionError(leaks + " Netty LEAK report(s) so far in this JVM (see the test log); the first:\n"
                    + FIRST_LEAK.get());
        }
    }

    /** Real leak reports counted so far. */
    public static int leaks() {
        return LEAKS.get();
    }

    /** Reports of buffers leaked on purpose (marked with {@link #DELIBERATE}) counted so far. */
    public static int deliberateLeaks() {
        return DELIBERATE_LEAKS.get();
    }

    /** Forgets the reports counted after the first {@code count}: for the extension's own test, which leaks on purpose. */
    static void forgetLeaksAfter(int count) {
        LEAKS.set(count);
        if (count == 0) {
            FIRST_LEAK.set(null);
        }
    }

    static void count(String message) {
        if (message == null || !message.contains("LEAK:")) {
            return;
        }
        if (message.contains(DELIBERATE)) {
            DELIBERATE_LEAKS.incrementAndGet();
        } else {
            FIRST_LEAK.compareAndSet(null, message);
            LEAKS.incrementAndGet();
        }
    }
}

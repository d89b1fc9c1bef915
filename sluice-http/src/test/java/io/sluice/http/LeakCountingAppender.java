package io.sluice.http;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts Netty's "LEAK:" reports so tests can fail on them (surefire runs with paranoid detection).
 * Attached to the logger {@code io.netty.util.ResourceLeakDetector} by {@code logback-test.xml}.
 *
 * <p>A report whose access records carry {@link #DELIBERATE} (a {@code touch} hint) comes from a
 * test that leaks on purpose to prove the wiring; it is counted apart so it never fails other tests.
 */
public final class LeakCountingAppender extends AppenderBase<ILoggingEvent> {

    /** Touch hint marking a buffer leaked on purpose by a wiring test. */
    public static final String DELIBERATE = "sluice-deliberate-leak-marker";

    static final AtomicInteger LEAKS = new AtomicInteger();
    private static final AtomicInteger DELIBERATE_LEAKS = new AtomicInteger();

    @Override
    protected void append(ILoggingEvent e) {
        String m = e.getFormattedMessage();
        if (m != null && m.contains("LEAK:")) {
            (m.contains(DELIBERATE) ? DELIBERATE_LEAKS : LEAKS).incrementAndGet();
        }
    }

    /** Real leak reports so far. */
    public static int leaks() {
        return LEAKS.get();
    }

    /** Reports of buffers leaked on purpose (marked with {@link #DELIBERATE}). */
    public static int deliberateLeaks() {
        return DELIBERATE_LEAKS.get();
    }
}

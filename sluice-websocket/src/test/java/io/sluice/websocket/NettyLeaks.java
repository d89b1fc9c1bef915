package io.sluice.websocket;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.LoggerFactory;

/**
 * Counts Netty's "LEAK:" reports (surefire runs with paranoid leak detection). Attached in
 * code because the shared logback-test.xml's counter lives in another package.
 */
final class NettyLeaks {

    private static final AtomicInteger LEAKS = new AtomicInteger();

    static {
        Logger logger = (Logger) LoggerFactory.getLogger("io.netty.util.ResourceLeakDetector");
        AppenderBase<ILoggingEvent> counter = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent e) {
                if (e.getFormattedMessage() != null && e.getFormattedMessage().contains("LEAK:")) {
                    LEAKS.incrementAndGet();
                }
            }
        };
        counter.setContext(logger.getLoggerContext());
        counter.start();
        logger.addAppender(counter);
    }

    private NettyLeaks() {
    }

    /** Makes sure the counter is attached (class initialisation). */
    static void install() {
    }

    /** Provokes the leak detector (GC plus fresh allocations) and returns the reports so far. */
    static int reports() {
        for (int i = 0; i < 3; i++) {
            System.gc();
            for (int j = 0; j < 200; j++) {
                ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(16);
                b.release();
            }
        }
        return LEAKS.get();
    }
}

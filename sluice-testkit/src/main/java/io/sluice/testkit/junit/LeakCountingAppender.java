package io.sluice.testkit.junit;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.AppenderBase;
import java.util.Iterator;
import org.slf4j.LoggerFactory;

/**
 * Hands every message of Netty's leak detector (logger {@code io.netty.util.ResourceLeakDetector}) to
 * {@link NettyLeakCheck}, which counts the {@code LEAK:} reports. A module's {@code logback-test.xml}
 * may attach it, so that counting starts with the first log line:
 *
 * <pre>{@code
 * <appender name="LEAKS" class="io.sluice.testkit.junit.LeakCountingAppender"/>
 * <logger name="io.netty.util.ResourceLeakDetector" level="ERROR"><appender-ref ref="LEAKS"/></logger>
 * }</pre>
 *
 * <p>Without that, {@link NettyLeakCheck} attaches one when a test class that uses it starts.
 */
public final class LeakCountingAppender extends AppenderBase<ILoggingEvent> {

    static final String LEAK_DETECTOR_LOGGER = "io.netty.util.ResourceLeakDetector";

    @Override
    protected void append(ILoggingEvent event) {
        NettyLeakCheck.count(event.getFormattedMessage());
    }

    /**
     * Attaches a counting appender to Netty's leak detector logger unless one is attached already.
     *
     * @throws ClassCastException when SLF4J is not bound to Logback
     */
    static synchronized void attachUnlessPresent() {
        Logger logger = (Logger) LoggerFactory.getLogger(LEAK_DETECTOR_LOGGER);
        for (Iterator<Appender<ILoggingEvent>> it = logger.iteratorForAppenders(); it.hasNext(); ) {
            if (it.next() instanceof LeakCountingAppender) {
                return;
            }
        }
        LeakCountingAppender counter = new LeakCountingAppender();
        counter.setName("sluice-netty-leaks");
        counter.setContext(logger.getLoggerContext());
        counter.start();
        logger.addAppender(counter);
    }
}

package io.sluice.http;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.concurrent.atomic.AtomicInteger;

/** Counts Netty's "LEAK:" reports so tests can fail on them (surefire runs with paranoid detection). */
public final class LeakCountingAppender extends AppenderBase<ILoggingEvent> {

    static final AtomicInteger LEAKS = new AtomicInteger();

    @Override
    protected void append(ILoggingEvent e) {
        if (e.getFormattedMessage() != null && e.getFormattedMessage().contains("LEAK:")) {
            LEAKS.incrementAndGet();
        }
    }
}

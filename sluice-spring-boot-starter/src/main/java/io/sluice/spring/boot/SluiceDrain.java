package io.sluice.spring.boot;

import io.sluice.http.ConnectionPoolManager;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * The graceful half of shutting Sluice down. {@link ConnectionPoolManager#close()} ends requests still in flight at
 * once (it closes every pool with no grace), so when the context closes this lifecycle first waits, up to
 * {@code sluice.shutdown.drain-timeout}, until no route has a lease out: calls and streams running then finish
 * undisturbed. It stops after the web server (a lower phase stops later), so requests the server was still
 * finishing can use Sluice to the end. Then the beans are destroyed: the SDK clients and adapters that use the
 * manager first (they depend on it), the manager last.
 *
 * <p><b>Thread-safety:</b> Spring calls start and stop from one thread. <b>Ownership:</b> reads the manager, closes
 * nothing.
 */
final class SluiceDrain implements SmartLifecycle {

    /** After Boot's graceful web server shutdown (DEFAULT_PHASE - 1024) and the server's stop (- 2048). */
    static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

    private static final Logger LOG = LoggerFactory.getLogger(SluiceDrain.class);

    private final ConnectionPoolManager manager;
    private final Duration timeout;
    private volatile boolean running;

    SluiceDrain(ConnectionPoolManager manager, Duration timeout) {
        this.manager = manager;
        this.timeout = timeout == null ? Duration.ZERO : timeout;
    }

    @Override
    public void start() {
        running = true;
    }

    @Override
    public void stop() {
        running = false;
        if (timeout.isZero() || timeout.isNegative()) {
            return;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        int inFlight = inFlight();
        if (inFlight > 0) {
            LOG.info("waiting up to {} for {} request(s) still running on Sluice", timeout, inFlight);
        }
        while (inFlight > 0 && System.nanoTime() - deadline < 0) {
            try {
                TimeUnit.MILLISECONDS.sleep(10); // a short poll: waiting must not refuse the calls of later-stopping beans
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            inFlight = inFlight();
        }
        if (inFlight > 0) {
            LOG.warn("{} request(s) still running on Sluice after {}; closing cuts them", inFlight, timeout);
        }
    }

    /**
     * Calls started and not yet ended ({@link ConnectionPoolManager#callsInFlight()}): waiting for admission (a rate
     * limit) or a connection, between retries, waiting for their head or reading their body. The drain only waits
     * here; it does not refuse calls, because lifecycles in lower phases may still call as they stop, and a stopped
     * context may start again. The manager is closed with the context.
     */
    int inFlight() {
        return manager.callsInFlight();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }
}

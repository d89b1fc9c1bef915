package io.sluice.spring.boot;

import io.sluice.http.ConnectionPoolManager;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * The graceful half of shutting Sluice down. {@link ConnectionPoolManager#close()} ends requests still in flight at
 * once, so when the context closes this lifecycle first closes the manager with
 * {@link ConnectionPoolManager#closeGracefully(Duration)}, waiting up to {@code sluice.shutdown.drain-timeout}: new
 * requests are refused from then on, and calls and streams already running finish undisturbed (those still running
 * at the timeout are cut, and the manager logs how many). It stops after the web server (a lower phase stops later),
 * so requests the server was still finishing can use Sluice to the end. Then the beans are destroyed: the SDK clients
 * and adapters that use the manager first (they depend on it), the manager last (its close has nothing left to do).
 * A drain timeout of 0 skips the drain: the manager's destroy method closes it at once.
 *
 * <p>Not pauseable ({@link #isPauseable()}): a context that is paused (the test framework pauses cached contexts) and
 * resumed keeps a working manager. An explicit {@code stop()} of the context closes it, for good.
 *
 * <p><b>Thread-safety:</b> Spring calls start and stop from one thread. <b>Ownership:</b> closes the manager on the
 * context's close (as the context itself would a moment later); owns nothing else.
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
        int inFlight = manager.callsInFlight();
        if (inFlight > 0) {
            LOG.info("waiting up to {} for {} request(s) still running on Sluice", timeout, inFlight);
        }
        try {
            // Completes when the manager is closed: after the last call, or at the timeout (then the manager warns).
            manager.closeGracefully(timeout).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the drain goes on; the manager's destroy method closes it at once
        } catch (ExecutionException e) {
            throw new IllegalStateException("closeGracefully completes normally", e); // documented never to happen
        }
    }

    @Override
    public boolean isPauseable() {
        return false;
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

package io.sluice.http.internal.client;

import io.sluice.http.CallListener;
import io.sluice.http.ConnectionInfo;
import io.sluice.http.ConnectionSetup;
import io.sluice.http.Headers;
import io.sluice.http.HttpRequest;
import io.sluice.http.SluiceHttpException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A user's {@link CallListener} behind a catch: what it throws is logged at WARN once per client and
 * otherwise dropped, so a broken listener never fails, hangs or changes a call (an exception escaping
 * an event loop callback would leave the exchange half-settled).
 *
 * <p><b>Thread-safety:</b> as thread-safe as the listener it wraps; the warned flag is atomic.
 */
final class GuardedCallListener implements CallListener {

    private static final Logger LOG = LoggerFactory.getLogger(CallListener.class);

    private final CallListener delegate;
    private final String route;
    private final AtomicBoolean warned;

    GuardedCallListener(CallListener delegate, String route, AtomicBoolean warned) {
        this.delegate = delegate;
        this.route = route;
        this.warned = warned;
    }

    static void warnOnce(AtomicBoolean warned, String route, String event, Exception e) {
        if (warned.compareAndSet(false, true)) {
            LOG.warn("{}: a call listener threw from {} (ignored; further listener errors of this client are "
                    + "logged at DEBUG)", route, event, e);
        } else {
            LOG.debug("{}: a call listener threw from {}", route, event, e);
        }
    }

    private void failed(String event, Exception e) {
        warnOnce(warned, route, event, e);
    }

    @Override
    public void callStart(HttpRequest request) {
        try {
            delegate.callStart(request);
        } catch (Exception e) { // checked ones too: Kotlin and sneaky throws reach here
            failed("callStart", e);
        }
    }

    @Override
    public void acquireStart(int attempt) {
        try {
            delegate.acquireStart(attempt);
        } catch (Exception e) { // checked ones too: Kotlin and sneaky throws reach here
            failed("acquireStart", e);
        }
    }

    @Override
    public void connectionSetUp(ConnectionSetup setup) {
        try {
            delegate.connectionSetUp(setup);
        } catch (Exception e) { // checked ones too: Kotlin and sneaky throws reach here
            failed("connectionSetUp", e);
        }
    }

    @Override
    public void acquireEnd(long waitNanos, ConnectionInfo connection, boolean newConnection) {
        try {
            delegate.acquireEnd(waitNanos, connection, newConnection);
        } catch (Exception e) { // checked ones too: Kotlin and sneaky throws reach here
            failed("acquireEnd", e);
        }
    }

    @Override
    public HttpRequest propagate(HttpRequest attempt) {
        HttpRequest out;
        try {
            out = delegate.propagate(attempt);
        } catch (Exception e) { // checked ones too: Kotlin and sneaky throws reach here
            failed("propagate", e);
            return attempt;
        }
        if (out == null || !out.route().equals(attempt.route())) {
            failed("propagate", new IllegalStateException(out == null ? "returned null"
                    : "changed the route to " + out.route()));
            return attempt;
        }
        return out;
    }

    @Override
    public void requestSending(HttpRequest sent) {
        try {
            delegate.requestSending(sent);
        } catch (Exception e) { // checked ones too: Kotlin and sneaky throws reach here
            failed("requestSending", e);
        }
    }

    @Override
    public void requestSent() {
        try {
            delegate.requestSent();
        } catch (Exception e) { // checked ones too: Kotlin and sneaky throws reach here
            failed("requestSent", e);
        }
    }

    @Override
    public void responseHeaders(int status, Headers headers, long nanosSinceStart) {
        try {
            delegate.responseHeaders(status, headers, nanosSinceStart);
        } catch (Exception e) { // checked ones too: Kotlin and sneaky throws reach here
            failed("responseHeaders", e);
        }
    }

    @Override
    public void firstBodyByte(long nanosSinceStart) {
        try {
            delegate.firstBodyByte(nanosSinceStart);
        } catch (Exception e) { // checked ones too: Kotlin and sneaky throws reach here
            failed("firstBodyByte", e);
        }
    }

    @Override
    public void replay(String reason, Throwable failure) {
        try {
            delegate.replay(reason, failure);
        } catch (Exception e) { // checked ones too: Kotlin and sneaky throws reach here
            failed("replay", e);
        }
    }

    @Override
    public void statusRetry(int status, Duration delay) {
        try {
            delegate.statusRetry(status, delay);
        } catch (Exception e) { // checked ones too: Kotlin and sneaky throws reach here
            failed("statusRetry", e);
        }
    }

    @Override
    public void callEnd(int status, long bodyBytes, long nanosSinceStart) {
        try {
            delegate.callEnd(status, bodyBytes, nanosSinceStart);
        } catch (Exception e) { // checked ones too: Kotlin and sneaky throws reach here
            failed("callEnd", e);
        }
    }

    @Override
    public void callFailed(Phase phase, SluiceHttpException failure) {
        try {
            delegate.callFailed(phase, failure);
        } catch (Exception e) { // checked ones too: Kotlin and sneaky throws reach here
            failed("callFailed", e);
        }
    }

    @Override
    public void callCancelled() {
        try {
            delegate.callCancelled();
        } catch (Exception e) { // checked ones too: Kotlin and sneaky throws reach here
            failed("callCancelled", e);
        }
    }
}

package io.sluice.http.internal.client;

import io.sluice.http.CallListener;
import io.sluice.http.ConnectionInfo;
import io.sluice.http.ConnectionSetup;
import io.sluice.http.Headers;
import io.sluice.http.HttpRequest;
import io.sluice.http.SluiceHttpException;
import io.sluice.http.spi.Redaction;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The wire log, as a call listener: each request and response head at DEBUG on the logger
 * {@code io.sluice.http.wire}, one line each, with secrets redacted (header values by name through
 * {@link Headers#toString()}, and key-like query parameters of the URI), plus one line for the end or
 * failure of the call. Made per call only while that logger is at DEBUG; it passes every event on to
 * the user's listener behind it.
 *
 * <p><b>Thread-safety:</b> a call's events come one at a time ({@link CallListener}); holds no mutable state.
 */
final class WireLog implements CallListener {

    private static final Logger WIRE = LoggerFactory.getLogger("io.sluice.http.wire");

    private final String route;
    private final String method;
    private final String target;
    private final CallListener next;

    WireLog(String route, HttpRequest request, CallListener next) {
        this.route = route;
        this.method = request.method();
        this.target = Redaction.redactUri(request.uri());
        this.next = next;
    }

    static boolean enabled() {
        return WIRE.isDebugEnabled();
    }

    @Override
    public void callStart(HttpRequest request) {
        next.callStart(request);
    }

    @Override
    public void acquireStart(int attempt) {
        next.acquireStart(attempt);
    }

    @Override
    public void connectionSetUp(ConnectionSetup setup) {
        next.connectionSetUp(setup);
    }

    @Override
    public void acquireEnd(long waitNanos, ConnectionInfo connection, boolean newConnection) {
        next.acquireEnd(waitNanos, connection, newConnection);
    }

    @Override
    public HttpRequest propagate(HttpRequest attempt) {
        return next.propagate(attempt);
    }

    @Override
    public void requestSending(HttpRequest sent) {
        WIRE.debug("{} --> {} {} {}{}", route, sent.method(), Redaction.redactUri(sent.uri()), sent.headers(),
                sent.bodyBytes() != null ? " (" + sent.bodyBytes().length + "-byte body)" : "");
        next.requestSending(sent);
    }

    @Override
    public void requestSent() {
        next.requestSent();
    }

    @Override
    public void responseHeaders(int status, Headers headers, long nanosSinceStart) {
        WIRE.debug("{} <-- {} {} {} {} ({} ms)", route, status, method, target, headers,
                TimeUnit.NANOSECONDS.toMillis(nanosSinceStart));
        next.responseHeaders(status, headers, nanosSinceStart);
    }

    @Override
    public void firstBodyByte(long nanosSinceStart) {
        next.firstBodyByte(nanosSinceStart);
    }

    @Override
    public void replay(String reason, Throwable failure) {
        WIRE.debug("{} replaying {} {}: {}", route, method, target, reason);
        next.replay(reason, failure);
    }

    @Override
    public void statusRetry(int status, Duration delay) {
        WIRE.debug("{} retrying {} {} after {} in {} ms", route, method, target, status, delay.toMillis());
        next.statusRetry(status, delay);
    }

    @Override
    public void callEnd(int status, long bodyBytes, long nanosSinceStart) {
        WIRE.debug("{} <-- END {} {} {} ({}-byte body, {} ms)", route, status, method, target, bodyBytes,
                TimeUnit.NANOSECONDS.toMillis(nanosSinceStart));
        next.callEnd(status, bodyBytes, nanosSinceStart);
    }

    @Override
    public void callFailed(Phase phase, SluiceHttpException failure) {
        // the exception's message never carries header values or the URI's query (the redaction tests hold it)
        WIRE.debug("{} <-- FAILED {} {} in {}: {}", route, method, target, phase, failure.toString());
        next.callFailed(phase, failure);
    }

    @Override
    public void callCancelled() {
        WIRE.debug("{} <-- CANCELLED {} {}", route, method, target);
        next.callCancelled();
    }
}

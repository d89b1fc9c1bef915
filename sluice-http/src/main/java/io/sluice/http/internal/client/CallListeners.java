package io.sluice.http.internal.client;

import io.sluice.http.CallListener;
import io.sluice.http.ConnectionInfo;
import io.sluice.http.ConnectionSetup;
import io.sluice.http.Headers;
import io.sluice.http.HttpRequest;
import io.sluice.http.SluiceHttpException;
import java.time.Duration;

/**
 * Two call listeners as one, {@code first} before {@code second} for every event: how a client with several
 * factories (metrics, tracing, the user's own) hands each call one listener. A chain of these nests to the left.
 * Both are guarded ({@link GuardedCallListener}), so one throwing never keeps an event from the other.
 *
 * <p><b>Thread-safety:</b> as thread-safe as its two listeners; holds no state of its own.
 */
final class CallListeners implements CallListener {

    private final CallListener first;
    private final CallListener second;

    CallListeners(CallListener first, CallListener second) {
        this.first = first;
        this.second = second;
    }

    @Override
    public void callStart(HttpRequest request) {
        first.callStart(request);
        second.callStart(request);
    }

    @Override
    public void acquireStart(int attempt) {
        first.acquireStart(attempt);
        second.acquireStart(attempt);
    }

    @Override
    public void connectionSetUp(ConnectionSetup setup) {
        first.connectionSetUp(setup);
        second.connectionSetUp(setup);
    }

    @Override
    public void acquireEnd(long waitNanos, ConnectionInfo connection, boolean newConnection) {
        first.acquireEnd(waitNanos, connection, newConnection);
        second.acquireEnd(waitNanos, connection, newConnection);
    }

    @Override
    public HttpRequest propagate(HttpRequest attempt) {
        return second.propagate(first.propagate(attempt));
    }

    @Override
    public void requestSending(HttpRequest sent) {
        first.requestSending(sent);
        second.requestSending(sent);
    }

    @Override
    public void requestSent() {
        first.requestSent();
        second.requestSent();
    }

    @Override
    public void responseHeaders(int status, Headers headers, long nanosSinceStart) {
        first.responseHeaders(status, headers, nanosSinceStart);
        second.responseHeaders(status, headers, nanosSinceStart);
    }

    @Override
    public void firstBodyByte(long nanosSinceStart) {
        first.firstBodyByte(nanosSinceStart);
        second.firstBodyByte(nanosSinceStart);
    }

    @Override
    public void replay(String reason, Throwable failure) {
        first.replay(reason, failure);
        second.replay(reason, failure);
    }

    @Override
    public void statusRetry(int status, Duration delay) {
        first.statusRetry(status, delay);
        second.statusRetry(status, delay);
    }

    @Override
    public void callEnd(int status, long bodyBytes, long nanosSinceStart) {
        first.callEnd(status, bodyBytes, nanosSinceStart);
        second.callEnd(status, bodyBytes, nanosSinceStart);
    }

    @Override
    public void callFailed(Phase phase, SluiceHttpException failure) {
        first.callFailed(phase, failure);
        second.callFailed(phase, failure);
    }

    @Override
    public void callCancelled() {
        first.callCancelled();
        second.callCancelled();
    }
}

package io.sluice.http;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A call listener for tests: records each event as one short line ({@code "acquireEnd new=true"}), plus
 * the objects a test inspects, and lets a test wait for the call's last event (which may come on an event
 * loop after the caller's future completed).
 */
public final class RecordingCallListener implements CallListener {

    private final List<String> events = new ArrayList<>();
    private final CountDownLatch ended = new CountDownLatch(1);
    volatile ConnectionSetup setup;
    volatile ConnectionInfo connection;
    volatile SluiceHttpException failure;
    volatile Throwable replayed;
    volatile long bodyBytes = -1;
    volatile long firstByteNanos = -1;
    volatile long endNanos = -1;

    private synchronized void add(String e) {
        events.add(e);
    }

    /** The events so far, in order. */
    public synchronized List<String> events() {
        return List.copyOf(events);
    }

    /** The events once the last one (end, failure, cancel) came; fails the test after 10 s. */
    public List<String> eventsAtEnd() {
        try {
            if (!ended.await(10, TimeUnit.SECONDS)) {
                throw new AssertionError("the call's last event did not come; events: " + events());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        return events();
    }

    public SluiceHttpException failure() {
        return failure;
    }

    public ConnectionSetup setup() {
        return setup;
    }

    public long bodyBytes() {
        return bodyBytes;
    }

    @Override
    public void callStart(HttpRequest request) {
        add("callStart " + request.method());
    }

    @Override
    public void acquireStart(int attempt) {
        add("acquireStart " + attempt);
    }

    @Override
    public void connectionSetUp(ConnectionSetup s) {
        setup = s;
        add("connectionSetUp");
    }

    @Override
    public void acquireEnd(long waitNanos, ConnectionInfo c, boolean newConnection) {
        connection = c;
        add("acquireEnd new=" + newConnection);
    }

    @Override
    public void requestSending(HttpRequest sent) {
        add("requestSending");
    }

    @Override
    public void requestSent() {
        add("requestSent");
    }

    @Override
    public void responseHeaders(int status, Headers headers, long nanosSinceStart) {
        add("responseHeaders " + status);
    }

    @Override
    public void firstBodyByte(long nanosSinceStart) {
        firstByteNanos = nanosSinceStart;
        add("firstBodyByte");
    }

    @Override
    public void replay(String reason, Throwable f) {
        replayed = f;
        add("replay " + reason);
    }

    @Override
    public void statusRetry(int status, Duration delay) {
        add("statusRetry " + status);
    }

    @Override
    public void callEnd(int status, long bytes, long nanosSinceStart) {
        bodyBytes = bytes;
        endNanos = nanosSinceStart;
        add("callEnd " + status);
        ended.countDown();
    }

    @Override
    public void callFailed(Phase phase, SluiceHttpException f) {
        failure = f;
        add("callFailed " + phase);
        ended.countDown();
    }

    @Override
    public void callCancelled() {
        add("callCancelled");
        ended.countDown();
    }
}

package io.sluice.testkit.adversary;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One request stream's script in progress: the next step to run and whether the request body
 * is granted back as it arrives. Each step calls {@link #next()} when it is done, at once or
 * later (pause, await), so a stream's steps run strictly in order while other streams interleave.
 *
 * <p>Confined to the connection's event loop.
 */
final class H2StreamRun {
    private final H2Connection connection;
    private final int streamId;
    private final H2StreamRecord record;
    private final List<H2Step> steps;
    private int index;
    private boolean grantBody;
    private long received;
    private long granted;

    H2StreamRun(H2Connection connection, int streamId, H2StreamRecord record, H2Script script) {
        this.connection = connection;
        this.streamId = streamId;
        this.record = record;
        this.steps = script.steps();
    }

    H2Connection connection() {
        return connection;
    }

    int streamId() {
        return streamId;
    }

    H2StreamRecord record() {
        return record;
    }

    /** Runs the next step, unless the script is over or the connection closed. */
    void next() {
        if (index >= steps.size() || connection.isClosed()) {
            return;
        }
        steps.get(index++).action().run(this);
    }

    /** Runs the next step after {@code millis}. */
    void later(long millis) {
        connection.executor().schedule(this::next, millis, TimeUnit.MILLISECONDS);
    }

    /** Runs the next step once the request ended (END_STREAM or the client's RST_STREAM). */
    void afterRequestEnd() {
        record.requestEnded().whenComplete((v, t) -> connection.executor().execute(this::next));
    }

    /** From now on, give back every request DATA byte; bytes received before this are given back at once. */
    void grantBody() {
        grantBody = true;
        grantReceived();
    }

    /** Counts a received DATA frame (payload plus padding) and gives it back when the body is granted. */
    void onData(int flowControlledBytes) {
        received += flowControlledBytes;
        if (grantBody) {
            grantReceived();
        }
    }

    private void grantReceived() {
        long owed = received - granted;
        if (owed > 0) {
            granted = received;
            connection.writeWindowUpdate(streamId, (int) owed);
            connection.writeWindowUpdate(0, (int) owed);
        }
    }
}

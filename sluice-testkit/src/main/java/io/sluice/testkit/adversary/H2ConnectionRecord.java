package io.sluice.testkit.adversary;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What {@link AdversaryH2Server} received on one connection outside of request streams: PINGs and
 * PING ACKs, GOAWAYs (as "lastStreamId/errorCode"), SETTINGS frames, WINDOW_UPDATEs.
 *
 * <p>Thread-safe: written on the connection's event loop, read from any thread. Holds no resources.
 */
public final class H2ConnectionRecord {
    private final int number;
    private final List<Long> pings = new CopyOnWriteArrayList<>();
    private final List<Long> pingAcks = new CopyOnWriteArrayList<>();
    private final List<String> goAways = new CopyOnWriteArrayList<>();
    private final AtomicInteger settings = new AtomicInteger();
    private final AtomicInteger settingsAcks = new AtomicInteger();
    private final AtomicInteger windowUpdates = new AtomicInteger();
    private volatile boolean closed;

    H2ConnectionRecord(int number) {
        this.number = number;
    }

    /** 1-based order in which the server accepted this connection. */
    public int number() {
        return number;
    }

    /** Payloads of the client's PINGs (not ACKs). */
    public List<Long> pingsReceived() {
        return List.copyOf(pings);
    }

    /** Payloads of the client's ACKs to the server's PINGs. */
    public List<Long> pingAcksReceived() {
        return List.copyOf(pingAcks);
    }

    /** The client's GOAWAYs, each as "lastStreamId/errorCode". */
    public List<String> goAwaysReceived() {
        return List.copyOf(goAways);
    }

    /** The client's SETTINGS frames (not ACKs), the one after the preface included. */
    public int settingsReceived() {
        return settings.get();
    }

    /** The client's ACKs to the server's SETTINGS. */
    public int settingsAcksReceived() {
        return settingsAcks.get();
    }

    /** WINDOW_UPDATE frames from the client, stream and connection. */
    public int windowUpdatesReceived() {
        return windowUpdates.get();
    }

    /** Whether the TCP connection is closed. */
    public boolean closed() {
        return closed;
    }

    void ping(long data) {
        pings.add(data);
    }

    void pingAck(long data) {
        pingAcks.add(data);
    }

    void goAway(int lastStreamId, long code) {
        goAways.add(lastStreamId + "/" + code);
    }

    void settings() {
        settings.incrementAndGet();
    }

    void settingsAck() {
        settingsAcks.incrementAndGet();
    }

    void windowUpdate() {
        windowUpdates.incrementAndGet();
    }

    void markClosed() {
        closed = true;
    }

    @Override
    public String toString() {
        return "connection " + number + ": pings=" + pings + " pingAcks=" + pingAcks + " goAways=" + goAways
                + " settings=" + settings + " closed=" + closed;
    }
}

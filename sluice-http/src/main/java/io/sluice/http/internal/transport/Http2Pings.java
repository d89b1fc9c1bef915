package io.sluice.http.internal.transport;

import io.sluice.http.Http2Settings;
import io.sluice.http.Route;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PINGs of one HTTP/2 connection, three kinds told apart by their payload: the keepalive PING
 * of an idle connection (which also measures the smoothed round trip), the checkout validation
 * PINGs (one future each), and the bandwidth-delay probe of the adaptive window.
 *
 * <p>A liveness PING (keepalive or validation) unanswered past its expected round trip marks the
 * connection overdue: it takes no new streams until an ACK; one unanswered past the PING timeout
 * closes it. The overdue check runs on the event loop (a late check cannot undo an ACK's verdict);
 * the timeout runs on the client's scheduler, so it fires even when the loop is busy writing.
 *
 * <p><b>Thread-safety:</b> confined to the connection's event loop, except {@link #overdue()} and
 * the keepalive flags, which are volatile because the pool and the scheduler read them.
 * <b>Ownership:</b> owns its keepalive task, cancelled by {@link #closed}; the connection owns the
 * channel, reached through {@link Link}.
 */
final class Http2Pings {

    private static final Logger LOG = LoggerFactory.getLogger(Http2Pings.class);
    static final long BDP_PING = 0x534C_4243_4250_0001L;
    static final long KEEPALIVE_PING = 0x534C_4243_4B41_0002L;
    static final long VALIDATE_PING_BASE = 0x534C_4243_5600_0000L;

    /** What the PINGs need from their connection; every method on the event loop unless noted. */
    interface Link {
        /** Writes and flushes a PING. */
        void sendPing(long payload);

        /** Closed, broken or draining after GOAWAY ({@link HttpConnection#isBroken()}). Any thread. */
        boolean isBroken();

        /** The connection's own broken flag (set by an error or a PING timeout), without GOAWAY. Any thread. */
        boolean brokenFlag();

        /** Whether the channel is still open. Any thread. */
        boolean channelActive();

        int activeStreams();

        /** When the connection last read anything, by {@link System#nanoTime()}. */
        long lastReadNanos();

        /** The connection's capacity changed (overdue set or cleared): tell the pool. */
        void capacityChanged();

        /** A liveness PING timed out: mark the connection broken and close it. On the scheduler thread. */
        void closeUnanswered(String kind);

        /** Applies the windows the bandwidth-delay estimator computed. */
        void applyWindows(BdpEstimator.Windows w);

        /** Why the connection became unusable, for a validation that cannot run; may be null. */
        Throwable lastError();
    }

    private final Route route;
    private final Http2Settings cfg;
    private final io.netty.channel.EventLoop loop;
    private final ScheduledExecutorService scheduler;
    private final BdpEstimator bdp;
    private final Link link;

    /** A keepalive PING is out and not yet acknowledged. Written on the event loop, read by the scheduler. */
    private volatile boolean keepalivePingOut;
    /**
     * A liveness PING (keepalive or checkout validation) has gone unanswered past its expected round trip: the
     * connection may be dead, so it takes no new streams until an ACK. A PING merely in flight does not take the
     * connection out of service (a burst after an idle gap would otherwise open new connections while one that fits
     * it is being checked). Written on the event loop only (set by the overdue check, cleared once no liveness PING
     * is outstanding: an ACK of an older PING proves only that the peer was alive then); read by the pool from any
     * thread.
     */
    private volatile boolean pingOverdue;
    /** Tells a scheduled check which keepalive PING it belongs to; bumped on the event loop for each one sent. */
    private volatile int keepaliveGeneration;
    /** When the outstanding keepalive PING was sent, and the smoothed PING round trip (0 until one was measured). */
    private long keepaliveSentNanos;
    private long smoothedRttNanos;
    private long validateCounter;
    /** Outstanding validation PINGs by payload; created on the first validate() (most connections never see one). */
    private Map<Long, CompletableFuture<Void>> validations;
    private io.netty.util.concurrent.ScheduledFuture<?> keepaliveTask;

    Http2Pings(Route route, Http2Settings cfg, io.netty.channel.EventLoop loop, ScheduledExecutorService scheduler,
               BdpEstimator bdp, Link link) {
        this.route = route;
        this.cfg = cfg;
        this.loop = loop;
        this.scheduler = scheduler;
        this.bdp = bdp;
        this.link = link;
    }

    /** Starts the keepalive timer. */
    void start() {
        long every = cfg.pingInterval().toNanos();
        keepaliveTask = loop.scheduleWithFixedDelay(this::keepaliveTick, every, every, TimeUnit.NANOSECONDS);
    }

    /** Whether a liveness PING is past its expected round trip (no new streams until an ACK). Any thread. */
    boolean overdue() {
        return pingOverdue;
    }

    /** A checkout validation: a PING whose ACK completes the future. Any thread. */
    CompletableFuture<Void> validate() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        loop.execute(() -> {
            if (link.isBroken()) {
                f.completeExceptionally(new ConnectionClosedException("connection unusable", true, link.lastError()));
                return;
            }
            long payload = VALIDATE_PING_BASE | (++validateCounter & 0xFFFFFF);
            if (validations == null) {
                validations = new HashMap<>(4);
            }
            validations.put(payload, f);
            link.sendPing(payload);
            loop.schedule(() -> {
                if (!f.isDone()) {
                    markOverdue("validation");
                }
            }, expectedRoundTripNanos(), TimeUnit.NANOSECONDS);
            scheduler.schedule(() -> {
                if (!f.isDone()) {
                    link.closeUnanswered("validation");
                }
            }, cfg.pingTimeout().toNanos(), TimeUnit.NANOSECONDS);
        });
        return f;
    }

    /** Received DATA: the bandwidth-delay estimator may ask for a probe PING. */
    void onData(int bytes) {
        if (bdp != null && bdp.onData(bytes, link.activeStreams(), System.nanoTime())) {
            link.sendPing(BDP_PING);
        }
    }

    /** A PING ACK arrived. */
    void onAck(long data) {
        if (data == BDP_PING) {
            if (bdp != null) {
                BdpEstimator.Windows w = bdp.onPingAck(link.activeStreams(), System.nanoTime());
                if (w != null) {
                    link.applyWindows(w);
                }
            }
        } else if (data == KEEPALIVE_PING) {
            if (keepalivePingOut) {
                long rtt = System.nanoTime() - keepaliveSentNanos;
                smoothedRttNanos = smoothedRttNanos == 0 ? rtt : (7 * smoothedRttNanos + rtt) / 8;
                keepalivePingOut = false;
            }
        } else {
            CompletableFuture<Void> f = validations == null ? null : validations.remove(data);
            if (f != null) {
                f.complete(null);
            }
        }
        if (!keepalivePingOut && (validations == null || validations.isEmpty()) && pingOverdue) {
            // Every liveness PING is answered: the connection is alive now, and new streams are welcome again.
            pingOverdue = false;
            link.capacityChanged();
        }
    }

    /** The connection closed: no more keepalives, and every validation fails with {@code closed}. */
    void closed(ConnectionClosedException closed) {
        if (keepaliveTask != null) {
            keepaliveTask.cancel(false);
        }
        if (validations != null) {
            for (CompletableFuture<Void> f : validations.values()) {
                f.completeExceptionally(closed);
            }
            validations.clear();
        }
    }

    private void keepaliveTick() {
        if (!link.channelActive() || link.brokenFlag() || keepalivePingOut) {
            return;
        }
        long idle = System.nanoTime() - link.lastReadNanos();
        if (link.activeStreams() == 0 && idle >= cfg.pingInterval().toNanos()) {
            keepalivePingOut = true;
            int generation = ++keepaliveGeneration;
            keepaliveSentNanos = System.nanoTime();
            link.sendPing(KEEPALIVE_PING);
            // On the loop, like the ACK: a late check cannot undo the ACK's verdict. A busy loop only delays it.
            loop.schedule(() -> {
                if (keepalivePingOut && keepaliveGeneration == generation) {
                    markOverdue("keepalive");
                }
            }, expectedRoundTripNanos(), TimeUnit.NANOSECONDS);
            scheduler.schedule(() -> {
                if (keepalivePingOut && keepaliveGeneration == generation) {
                    link.closeUnanswered("keepalive");
                }
            }, cfg.pingTimeout().toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    /** No new streams until a PING ACK arrives: a liveness PING is past its expected round trip. Event loop. */
    private void markOverdue(String kind) {
        if (!pingOverdue && !link.brokenFlag()) {
            LOG.debug("{}: {} PING unanswered past its expected round trip; no new streams until it is", route, kind);
            pingOverdue = true;
            link.capacityChanged();
        }
    }

    /**
     * How long a liveness PING may be out before the connection stops taking streams: four smoothed round trips
     * (a congested path stretches one), one second before any was measured, at least 50 ms and at most the PING
     * timeout. Event-loop confined.
     */
    private long expectedRoundTripNanos() {
        long expected = smoothedRttNanos == 0 ? TimeUnit.SECONDS.toNanos(1) : 4 * smoothedRttNanos;
        return Math.min(cfg.pingTimeout().toNanos(), Math.max(TimeUnit.MILLISECONDS.toNanos(50), expected));
    }
}

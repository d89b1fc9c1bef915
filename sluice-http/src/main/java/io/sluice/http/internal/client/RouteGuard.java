package io.sluice.http.internal.client;

import io.sluice.pool.health.OutlierDetector;
import io.sluice.http.ConnectFailedException;
import io.sluice.http.RequestTimeoutException;
import io.sluice.http.RouteCounters;
import io.sluice.http.RouteUnavailableException;
import io.sluice.http.SluiceHttpException;
import io.sluice.http.TlsFailedException;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * One route's outlier ejection and event counters. Calls ask it for admission before
 * they start and report their outcome when they settle.
 *
 * <p>Failures that count towards ejection are the ones that say the upstream cannot take
 * new requests (Envoy's "consecutive 5xx" with locally originated failures): a 5xx answer,
 * a connect or TLS failure (after the pool's own connect retries), a connect or headers
 * timeout. Not counted: a connection lost under requests already in flight (one server
 * restart would otherwise fail every in-flight request at once and eject the route on its
 * own; the transport's passive detection deals with that connection), protocol errors of
 * one response, 4xx answers, waiting for a slot (local congestion), body-idle and total
 * timeouts of long streams, exceeded limits, invalid requests and cancellations.
 *
 * <p><b>Thread-safety:</b> thread-safe (the detector synchronizes per route; counters are
 * {@link LongAdder}s in concurrent maps).
 */
public final class RouteGuard {

    private final String route;
    private final OutlierDetector detector;
    private final Map<String, LongAdder> broken = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> replays = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> failures = new ConcurrentHashMap<>();

    /** A guard for {@code route}; {@code detector} null turns ejection off (counters stay on). */
    public RouteGuard(String route, OutlierDetector detector) {
        this.route = route;
        this.detector = detector;
    }

    /** Whether a call may start: null when it may (probe or not), else the error to fail it with. */
    Admission admit() {
        if (detector == null) {
            return Admission.ALLOWED;
        }
        return switch (detector.admit(route)) {
            case ALLOWED -> Admission.ALLOWED;
            case PROBE -> Admission.PROBE;
            case EJECTED -> Admission.EJECTED;
        };
    }

    /** Admission of one call. */
    enum Admission { ALLOWED, PROBE, EJECTED }

    RouteUnavailableException ejectedError() {
        long ms = detector.remainingEjection(route).toMillis();
        return new RouteUnavailableException(route, "route ejected after " + detector.ejections(route)
                + " ejection(s) for consecutive upstream failures; "
                + (ms > 0 ? "the next probe request is allowed in " + ms + " ms" : "a probe request is in flight"));
    }

    /**
     * The call's response head of {@code status} reached the caller. A 5xx is a failure at once. A success waits for
     * the body's end ({@link #completed}), because a stream the server resets mid-body is a failure too, and a
     * success recorded at the head would reset the consecutive count between such failures. The ejected route's
     * probe is the exception: its head alone brings the route back, so a probe whose body the caller never reads
     * cannot keep the route ejected.
     */
    void responded(int status, boolean probe) {
        if (detector == null) {
            return;
        }
        if (status >= 500) {
            detector.recordFailure(route);
        } else if (probe) {
            detector.recordSuccess(route);
        }
    }

    /** The body of a response whose head was {@code status} ended normally. */
    void completed(int status, boolean probe) {
        if (detector != null && status < 500 && !probe) {
            detector.recordSuccess(route);
        }
    }

    /** The call failed with {@code error}. {@code probe}: it was the ejected route's probe. */
    void failed(SluiceHttpException error, boolean probe) {
        count(failures, error.getClass().getSimpleName());
        if (detector == null) {
            return;
        }
        if (countsAsUpstreamFailure(error)) {
            detector.recordFailure(route);
        } else if (probe) {
            detector.probeAbandoned(route);
        }
    }

    /**
     * The call's response failed after its head had been delivered (and {@link #responded} counted). Counted among
     * failures like any other; for ejection only a stream the server reset mid-body counts, as a 5xx would: the
     * server gave up on the request. Other failures after the head leave the detector as it was (neither success
     * nor failure). A connection lost under in-flight bodies, a body-idle or total timeout of a
     * long stream and a body over its limit stay out of ejection, for the reasons the class comment gives.
     */
    void failedAfterHead(SluiceHttpException error) {
        count(failures, error.getClass().getSimpleName());
        if (detector != null && error.getCause() instanceof io.sluice.http.internal.transport.StreamResetException) {
            detector.recordFailure(route);
        }
    }

    /** The call was cancelled by its caller before an outcome. */
    void abandoned(boolean probe) {
        if (detector != null && probe) {
            detector.probeAbandoned(route);
        }
    }

    static boolean countsAsUpstreamFailure(SluiceHttpException e) {
        if (e instanceof RequestTimeoutException t) {
            return t.phase() == RequestTimeoutException.Phase.CONNECT || t.phase() == RequestTimeoutException.Phase.HEADERS;
        }
        return e instanceof ConnectFailedException || e instanceof TlsFailedException;
    }

    /** A transport replay of {@code kind}. */
    void replayed(String kind) {
        count(replays, kind);
    }

    /** A pooled connection was found broken between requests, for {@code reason}. */
    public void connectionBroken(String reason) {
        count(broken, reason);
    }

    private static void count(Map<String, LongAdder> m, String key) {
        m.computeIfAbsent(key, k -> new LongAdder()).increment();
    }

    /** A snapshot of the counters. */
    public RouteCounters snapshot() {
        return new RouteCounters(sums(broken), sums(replays), sums(failures),
                detector == null ? 0 : detector.ejections(route), detector != null && detector.isEjected(route));
    }

    private static Map<String, Long> sums(Map<String, LongAdder> m) {
        Map<String, Long> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k, v.sum()));
        return Map.copyOf(out);
    }
}

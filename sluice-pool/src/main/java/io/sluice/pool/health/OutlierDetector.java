package io.sluice.pool.health;

import io.sluice.pool.Ticker;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Outlier ejection with Envoy's defaults: {@link Settings#consecutiveFailures()} (5)
 * failures in a row eject a route for {@link Settings#baseEjection()} (30 s) × the number
 * of times it has been ejected, at most {@link Settings#maxEjection()} (300 s). When the
 * ejection ends, the route is admitted for exactly one probe request; its success brings
 * the route back, its failure ejects it again for longer.
 *
 * <p><b>Thread-safety:</b> thread-safe; each route's state is updated under the route's
 * own monitor (short, no callbacks).
 */
public final class OutlierDetector {

    /**
     * Detector settings; defaults are Envoy's.
     *
     * <p><b>Thread-safety:</b> immutable.
     */
    public record Settings(int consecutiveFailures, Duration baseEjection, Duration maxEjection) {
        public static Settings defaults() {
            return new Settings(5, Duration.ofSeconds(30), Duration.ofSeconds(300));
        }

        public Settings {
            if (consecutiveFailures < 1) {
                throw new IllegalArgumentException("consecutiveFailures must be at least 1, was " + consecutiveFailures);
            }
            Objects.requireNonNull(baseEjection, "baseEjection");
            Objects.requireNonNull(maxEjection, "maxEjection");
        }
    }

    /** What a caller may do with a route now. */
    public enum Admission {
        /** Send normally. */
        ALLOWED,
        /** The ejection ended: this one request is the probe that decides the route's return. */
        PROBE,
        /** Ejected (or a probe is already in flight): do not send. */
        EJECTED
    }

    private static final class RouteState {
        int consecutive;
        int ejections;
        long ejectedUntil;
        boolean ejected;
        boolean probing;
    }

    private final Settings settings;
    private final Ticker ticker;
    private final ConcurrentHashMap<String, RouteState> routes = new ConcurrentHashMap<>();

    public OutlierDetector(Settings settings, Ticker ticker) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
    }

    private RouteState state(String route) {
        return routes.computeIfAbsent(route, r -> new RouteState());
    }

    /** Whether a request may go to {@code route} now; {@link Admission#PROBE} is answered to one caller only. */
    public Admission admit(String route) {
        RouteState s = state(route);
        synchronized (s) {
            if (!s.ejected) {
                return Admission.ALLOWED;
            }
            if (s.probing || ticker.nanoTime() - s.ejectedUntil < 0) {
                return Admission.EJECTED;
            }
            s.probing = true;
            return Admission.PROBE;
        }
    }

    /** A request to {@code route} succeeded: resets its failure count and ends an ejection after a probe. */
    public void recordSuccess(String route) {
        RouteState s = state(route);
        synchronized (s) {
            s.consecutive = 0;
            if (s.ejected && s.probing) {
                s.ejected = false;
                s.probing = false;
            }
        }
    }

    /** A request to {@code route} failed (5xx, connect or I/O failure, timeout); answers whether it is ejected now. */
    public boolean recordFailure(String route) {
        RouteState s = state(route);
        synchronized (s) {
            s.consecutive++;
            boolean failedProbe = s.ejected && s.probing;
            if (failedProbe || (!s.ejected && s.consecutive >= settings.consecutiveFailures())) {
                s.ejections++;
                long span = Math.min(settings.baseEjection().toNanos() * s.ejections, settings.maxEjection().toNanos());
                s.ejectedUntil = ticker.nanoTime() + span;
                s.ejected = true;
                s.probing = false;
            }
            return s.ejected;
        }
    }

    /** A probe request that ended without a verdict (cancelled): lets another caller probe. */
    public void probeAbandoned(String route) {
        RouteState s = state(route);
        synchronized (s) {
            s.probing = false;
        }
    }

    /** How long until {@code route} may be probed again; zero when it is not ejected or may be probed now. */
    public Duration remainingEjection(String route) {
        RouteState s = state(route);
        synchronized (s) {
            if (!s.ejected) {
                return Duration.ZERO;
            }
            return Duration.ofNanos(Math.max(0, s.ejectedUntil - ticker.nanoTime()));
        }
    }

    /** Whether {@code route} is ejected now (a probe may be due). */
    public boolean isEjected(String route) {
        RouteState s = state(route);
        synchronized (s) {
            return s.ejected;
        }
    }

    /** How many times {@code route} has been ejected. */
    public int ejections(String route) {
        RouteState s = state(route);
        synchronized (s) {
            return s.ejections;
        }
    }
}

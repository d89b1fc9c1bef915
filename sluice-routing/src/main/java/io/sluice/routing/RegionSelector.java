package io.sluice.routing;

import io.sluice.http.RouteUnavailableException;
import io.sluice.pool.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Chooses the region a request goes to: the best connection (lowest
 * latency, {@code us-east-1} before any data) made careful. Latency per region is a
 * {@link PeakEwma} fed by probes and real responses; a 429, 503 or timeout is recorded as
 * a penalised sample (four times the current estimate, at least 1 s, at most 30 s); a
 * {@code Retry-After} hint puts the region in cooldown for the hinted time, capped at
 * {@link #MAX_COOLDOWN} (300 s). Unhealthy and cooling regions are skipped; when every
 * region is, {@link #choose()} throws {@link RouteUnavailableException} saying when the
 * first one frees.
 *
 * <p><b>Thread-safety:</b> thread-safe: the region set is fixed at construction; each
 * region's fields are volatile or guarded by its {@link PeakEwma}.
 */
public final class RegionSelector {

    /** The longest a Retry-After hint may keep a region out. */
    public static final Duration MAX_COOLDOWN = Duration.ofSeconds(300);
    /** The region used before any latency is known. */
    public static final String DEFAULT_REGION = "us-east-1";

    private static final long MIN_PENALTY = Duration.ofSeconds(1).toNanos();
    private static final long MAX_PENALTY = Duration.ofSeconds(30).toNanos();

    private static final class Region {
        final String name;
        final PeakEwma latency;
        volatile boolean healthy = true;
        volatile long cooldownUntil;
        volatile boolean cooling;

        Region(String name, Duration decay) {
            this.name = name;
            this.latency = new PeakEwma(decay);
        }
    }

    private final Map<String, Region> regions;
    private final String defaultRegion;
    private final Ticker ticker;

    /** A selector over {@code names} (in preference order for ties), falling back to {@code defaultRegion} before data. */
    public RegionSelector(List<String> names, String defaultRegion, Duration decay, Ticker ticker) {
        if (names.isEmpty()) {
            throw new IllegalArgumentException("at least one region is required");
        }
        Map<String, Region> m = new LinkedHashMap<>();
        for (String n : names) {
            m.put(n, new Region(n, decay));
        }
        this.regions = Collections.unmodifiableMap(m);
        this.defaultRegion = Objects.requireNonNull(defaultRegion, "defaultRegion");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
    }

    private Region region(String name) {
        Region r = regions.get(name);
        if (r == null) {
            throw new IllegalArgumentException("unknown region '" + name + "'");
        }
        return r;
    }

    /** The regions, in the order given. */
    public List<String> regions() {
        return List.copyOf(regions.keySet());
    }

    /** A latency sample from a probe or a real response. */
    public void recordLatency(String region, Duration latency) {
        region(region).latency.record(latency.toNanos(), ticker.nanoTime());
    }

    /** A 429, 503 or timeout: a penalised sample, and a cooldown when the peer hinted one. */
    public void recordPenalty(String region, Duration retryAfterOrNull) {
        Region r = region(region);
        long now = ticker.nanoTime();
        long penalty = Math.min(MAX_PENALTY, Math.max(MIN_PENALTY, r.latency.estimateNanos() * 4));
        r.latency.record(penalty, now);
        if (retryAfterOrNull != null && !retryAfterOrNull.isNegative() && !retryAfterOrNull.isZero()) {
            long span = Math.min(retryAfterOrNull.toNanos(), MAX_COOLDOWN.toNanos());
            r.cooldownUntil = now + span;
            r.cooling = true;
        }
    }

    /** Marks a region healthy or not (from the health monitor). */
    public void setHealthy(String region, boolean healthy) {
        region(region).healthy = healthy;
    }

    /** The latency estimate of each region that has data. */
    public Map<String, Duration> latencies() {
        Map<String, Duration> out = new LinkedHashMap<>();
        for (Region r : regions.values()) {
            if (r.latency.hasData()) {
                out.put(r.name, Duration.ofNanos(r.latency.estimateNanos()));
            }
        }
        return out;
    }

    /** Time left in each region's cooldown (regions not cooling are absent). */
    public Map<String, Duration> cooldowns() {
        long now = ticker.nanoTime();
        Map<String, Duration> out = new LinkedHashMap<>();
        for (Region r : regions.values()) {
            if (isCooling(r, now)) {
                out.put(r.name, Duration.ofNanos(r.cooldownUntil - now));
            }
        }
        return out;
    }

    private static boolean isCooling(Region r, long now) {
        return r.cooling && now - r.cooldownUntil < 0;
    }

    /**
     * The region for the next request: among healthy regions not cooling down, the one
     * with the lowest latency estimate; before any region has data, the default region
     * (or the first available one).
     */
    public String choose() {
        return candidates().get(0);
    }

    /** Every available region, best first (the failover order). Throws when none is available. */
    public List<String> candidates() {
        long now = ticker.nanoTime();
        List<Region> measured = new ArrayList<>();
        List<Region> unmeasured = new ArrayList<>();
        long firstFree = Long.MAX_VALUE;
        String firstFreeName = null;
        for (Region r : regions.values()) {
            if (isCooling(r, now)) {
                long left = r.cooldownUntil - now;
                if (left < firstFree) {
                    firstFree = left;
                    firstFreeName = r.name;
                }
                continue;
            }
            if (!r.healthy) {
                continue;
            }
            (r.latency.hasData() ? measured : unmeasured).add(r);
        }
        if (measured.isEmpty() && unmeasured.isEmpty()) {
            String when = firstFreeName == null ? "no region is healthy"
                    : "the first to free is " + firstFreeName + " in " + Duration.ofNanos(firstFree).toMillis() + " ms";
            throw new RouteUnavailableException(null, "every region is unhealthy or cooling down; " + when);
        }
        measured.sort((a, b) -> Long.compare(a.latency.estimateNanos(), b.latency.estimateNanos()));
        unmeasured.sort((a, b) -> Boolean.compare(!a.name.equals(defaultRegion), !b.name.equals(defaultRegion)));
        List<String> out = new ArrayList<>();
        if (measured.isEmpty()) {
            unmeasured.forEach(r -> out.add(r.name));
        } else {
            measured.forEach(r -> out.add(r.name));
            unmeasured.forEach(r -> out.add(r.name));
        }
        return out;
    }
}

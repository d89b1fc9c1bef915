package io.sluice.routing;

import io.sluice.pool.health.OutlierDetector;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.RequestTimeoutException;
import io.sluice.http.RouteUnavailableException;
import io.sluice.http.SluiceHttpException;
import io.sluice.http.retry.RetryAfter;
import io.sluice.pool.Ticker;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A router of clients: regions mapped to base URLs, each served by its own
 * pool (one route of the shared {@link ConnectionPoolManager} per region), and every
 * request sent to the healthy region with the lowest latency ({@code us-east-1} before any
 * data). In addition:
 * <ul>
 *   <li>latency is a peak-EWMA ({@link RegionSelector}) fed by the {@code GET {base}/ping}
 *   probes every {@link Settings#probeInterval()} (30 s) and by real responses;</li>
 *   <li>a 429 or 503 counts as a penalised sample, its {@code Retry-After} /
 *   {@code retry-after-ms} puts the region in cooldown (capped at 300 s), and the request
 *   fails over to the next region at once;</li>
 *   <li>connect failures and timeouts fail over too and count towards outlier ejection (5
 *   consecutive failures eject a region for 30 s × ejections, at most 300 s; the next
 *   successful probe brings it back);</li>
 *   <li>when every region is cooling down or ejected, requests fail fast with
 *   {@link RouteUnavailableException} saying when the first frees.</li>
 * </ul>
 * Failover re-sends the request, so it is done only before any response was accepted:
 * 429/503 responses (the provider did not do the work), connect failures, and timeouts
 * waiting for a slot or a connection. A timeout waiting for headers fails over only for
 * idempotent methods.
 *
 * <p><b>Thread-safety:</b> thread-safe. <b>Ownership:</b> owns its probe schedule; does
 * not own the client or the scheduler unless noted by the builder.
 */
public final class RegionRouter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RegionRouter.class);

    /**
     * Router settings.
     *
     * <p><b>Thread-safety:</b> immutable.
     */
    public record Settings(String defaultRegion, Duration probeInterval, String probePath, Duration probeTimeout,
            Duration latencyDecay) {
        /** {@code us-east-1}, {@code GET /ping} every 30 s within 2 s, latency decaying over 10 s. */
        public static Settings defaults() {
            return new Settings(RegionSelector.DEFAULT_REGION, Duration.ofSeconds(30), "/ping", Duration.ofSeconds(2),
                    Duration.ofSeconds(10));
        }
    }

    private final ConnectionPoolManager client;
    private final Map<String, URI> bases;
    private final Settings settings;
    private final RegionSelector selector;
    private final OutlierDetector outliers;
    private final Ticker ticker;
    private final Clock clock;
    private final ScheduledExecutorService scheduler;
    private volatile ScheduledFuture<?> probes;

    /**
     * A router over {@code regions} (name → base URL, in failover preference order for
     * ties). The client should have its status retries off: the router answers 429/503
     * by failing over instead of waiting on the same region.
     */
    public RegionRouter(ConnectionPoolManager client, Map<String, URI> regions, Settings settings,
            ScheduledExecutorService scheduler, Ticker ticker, Clock clock) {
        this.client = Objects.requireNonNull(client, "client");
        this.bases = new LinkedHashMap<>(regions);
        this.settings = Objects.requireNonNull(settings, "settings");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.selector = new RegionSelector(List.copyOf(regions.keySet()), settings.defaultRegion(),
                settings.latencyDecay(), ticker);
        this.outliers = new OutlierDetector(OutlierDetector.Settings.defaults(), ticker);
    }

    /** Starts the periodic latency probes. */
    public synchronized RegionRouter start() {
        if (probes == null) {
            long every = settings.probeInterval().toNanos();
            probes = scheduler.scheduleWithFixedDelay(this::probeAll, 0, every, TimeUnit.NANOSECONDS);
        }
        return this;
    }

    /** The latency and cooldown tables, for metrics and the CLI. */
    public RegionSelector selector() {
        return selector;
    }

    /** The region the next request would go to. */
    public String bestRegion() {
        return selector.choose();
    }

    /** The base URL of {@code region}. */
    public URI baseUri(String region) {
        URI u = bases.get(region);
        if (u == null) {
            throw new IllegalArgumentException("unknown region '" + region + "'");
        }
        return u;
    }

    /** Probes every region once now; completes when all probes ended. */
    public CompletableFuture<Void> probeAll() {
        CompletableFuture<?>[] all = bases.keySet().stream().map(this::probe).toArray(CompletableFuture[]::new);
        return CompletableFuture.allOf(all);
    }

    private CompletableFuture<Void> probe(String region) {
        // The probe timeout bounds the whole probe (waiting for a slot and connecting included),
        // so one unreachable region never holds up a round.
        HttpRequest ping = HttpRequest.newBuilder(baseUri(region).resolve(settings.probePath())).GET()
                .headersTimeout(settings.probeTimeout()).totalTimeout(settings.probeTimeout()).build();
        long start = ticker.nanoTime();
        return client.send(ping).handle((r, err) -> {
            if (err == null && r.status() / 100 == 2) {
                selector.recordLatency(region, Duration.ofNanos(ticker.nanoTime() - start));
                outliers.recordSuccess(region);
                selector.setHealthy(region, true);
            } else {
                LOG.debug("probe of region {} failed: {}", region, err != null ? unwrap(err).toString() : r.status());
                selector.recordPenalty(region, null);
                failure(region);
            }
            return null;
        });
    }

    private void failure(String region) {
        if (outliers.recordFailure(region)) {
            selector.setHealthy(region, false);
        }
    }

    /**
     * Sends {@code request} to the best region: its path and query are resolved against
     * the region's base URL. Fails over to the next region as described above.
     */
    public CompletableFuture<HttpResponse> send(HttpRequest request) {
        List<String> candidates;
        try {
            candidates = selector.candidates();
        } catch (RouteUnavailableException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<HttpResponse> result = new CompletableFuture<>();
        attempt(request, candidates, 0, null, result);
        return result;
    }

    private void attempt(HttpRequest request, List<String> candidates, int index, Throwable lastFailure,
            CompletableFuture<HttpResponse> result) {
        if (index >= candidates.size()) {
            result.completeExceptionally(lastFailure != null ? lastFailure
                    : new RouteUnavailableException(null, "every region failed"));
            return;
        }
        String region = candidates.get(index);
        HttpRequest routed = request.toBuilder().uri(baseUri(region).resolve(request.pathAndQuery())).build();
        long start = ticker.nanoTime();
        client.send(routed).whenComplete((r, err) -> {
            if (err == null) {
                if (r.status() == 429 || r.status() == 503) {
                    Duration hint = RetryAfter.from(name -> r.headers().get(name), clock).orElse(null);
                    selector.recordPenalty(region, hint);
                    LOG.info("region {} answered {}; cooling down for {} and failing over", region, r.status(), hint);
                    if (index + 1 < candidates.size()) {
                        attempt(request, candidates, index + 1, null, result);
                    } else {
                        result.complete(r); // nowhere else to go: the caller sees the provider's answer
                    }
                    return;
                }
                selector.recordLatency(region, Duration.ofNanos(ticker.nanoTime() - start));
                if (r.status() >= 500) {
                    failure(region);
                } else {
                    outliers.recordSuccess(region);
                }
                result.complete(r);
                return;
            }
            Throwable cause = unwrap(err);
            if (failsOver(cause, request)) {
                selector.recordPenalty(region, null);
                failure(region);
                LOG.info("region {} failed ({}); failing over", region, cause.toString());
                attempt(request, candidates, index + 1, cause, result);
            } else {
                result.completeExceptionally(cause);
            }
        });
    }

    private static boolean failsOver(Throwable cause, HttpRequest request) {
        if (cause instanceof RequestTimeoutException t) {
            return switch (t.phase()) {
                case ACQUIRE, CONNECT -> true;
                case HEADERS -> request.idempotent();
                default -> false;
            };
        }
        if (cause instanceof SluiceHttpException s) {
            return s instanceof io.sluice.http.ConnectFailedException || s instanceof io.sluice.http.TlsFailedException
                    || s instanceof io.sluice.http.PoolExhaustedException;
        }
        return false;
    }

    private static Throwable unwrap(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** Stops the probes. The client stays open (it is the caller's). */
    @Override
    public synchronized void close() {
        if (probes != null) {
            probes.cancel(false);
        }
    }
}

package io.sluice.ratelimit;

import io.sluice.http.CallListener;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.Headers;
import io.sluice.http.HttpRequest;
import io.sluice.http.RateLimitedException;
import io.sluice.http.RequestAdmission;
import io.sluice.http.Route;
import io.sluice.http.SluiceHttpException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shapes a client's traffic to the limits its providers announce, before the 429. Every response's
 * rate-limit headers ({@link RateLimitHeaders}: OpenAI's, Anthropic's, the IETF draft's) update a budget per
 * route and API key (keyed by a hash of the key, never the key); before each attempt the limiter admits it
 * when the budget has room for one request and its token estimate ({@link TokenEstimate} by default), and
 * otherwise either holds it until the budget refills ({@link Mode#WAIT}: first come first served, bounded
 * by the request's own deadline and by {@link Builder#maxWait}) or refuses it at once with
 * {@link RateLimitedException} carrying when to retry ({@link Mode#FAIL}). A 429 empties the budget for its
 * {@code retry-after}. A budget nobody announced yet admits everything.
 *
 * <pre>{@code
 * RateLimiter limits = RateLimiter.builder().build();
 * ConnectionPoolManager client = limits.instrument(ConnectionPoolManager.builder()).build();
 * }</pre>
 *
 * <p>Between responses the budget refills linearly so that it is full at the announced reset; each
 * response replaces the estimate with the server's figure, less what is still in flight (sent, not yet
 * counted by the server). With several processes sharing a key, each sees the fleet's consumption in the
 * figures the provider returns to it, one response late; {@link Builder#fleet} ({@link RedisBudgets}) shares
 * the request and token budgets themselves through Redis instead, falling back to the local budget when Redis is slow or down.
 *
 * <p><b>Thread-safety:</b> thread-safe; each budget is guarded by its own monitor, and no future is completed
 * and no caller code runs while one is held; Redis is only ever asked asynchronously. <b>Ownership:</b> owns
 * one daemon timer thread that admits waiting requests (and bounds Redis operations in fleet mode), and the
 * Redis resources {@link RedisBudgets} says it owns; {@link #close()} stops and releases them and fails the
 * requests still waiting. Close it after the clients that use it.
 */
public final class RateLimiter implements RequestAdmission, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RateLimiter.class);
    private static final CompletableFuture<Void> ADMITTED = CompletableFuture.completedFuture(null);
    /** How long a stuck budget (no reset announced, nothing in flight) waits before it sends one probe. */
    static final long PROBE_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** What happens to a request that finds no room. */
    public enum Mode {
        /** Wait for room, in order, within the request's deadline and {@link Builder#maxWait}. */
        WAIT,
        /** Fail at once with {@link RateLimitedException}. */
        FAIL
    }

    private record BudgetKey(String route, String keyHash) {
    }


    private final Mode mode;
    private final Duration maxWait;
    private final ToLongFunction<HttpRequest> tokenEstimate;
    private final Clock clock;
    private final ScheduledExecutorService timer;
    private final ConcurrentHashMap<BudgetKey, Budget> budgets = new ConcurrentHashMap<>();
    private final LongAdder admittedAtOnce = new LongAdder();
    private final LongAdder shaped = new LongAdder();
    private final LongAdder shapedNanos = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder seen429 = new LongAdder();
    /** Null in local mode; only then is neither Bucket4j nor Lettuce ever loaded. */
    private final Fleet fleet;
    /** Admissions waiting on the fleet (for Redis, or for their reservation): close() fails them. */
    private final java.util.Set<CompletableFuture<Void>> pendingFleet = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private RateLimiter(Builder b) {
        this.mode = b.mode;
        this.maxWait = b.maxWait;
        this.tokenEstimate = b.tokenEstimate;
        this.clock = b.clock;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-ratelimit");
            t.setDaemon(true);
            return t;
        });
        this.fleet = b.fleet == null ? null : b.fleet.start(timer);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Adds this limiter to {@code builder} as its admission: each call gets its own state ({@link #forCall}), which
     * also hears the call's responses.
     */
    public ConnectionPoolManager.Builder instrument(ConnectionPoolManager.Builder builder) {
        return builder.admission(this);
    }

    // ------------------------------------------------------------------ admission

    /**
     * One call's admission and listener, sharing that call's state: what its attempts took, and the responses that
     * settle it. Per call, not per request object: one immutable {@link HttpRequest} may be sent by several calls.
     */
    @Override
    public CallAdmission forCall(HttpRequest request) {
        CallState state = new CallState(budgetFor(request.route(), request), estimate(request), true);
        BudgetListener listener = new BudgetListener(state);
        return new CallAdmission() {
            @Override
            public CompletableFuture<Void> admit(int attempt) {
                return admitCall(state, request);
            }

            @Override
            public void abandoned(int attempt) {
                giveBack(state);
            }

            @Override
            public CallListener listener() {
                return listener;
            }
        };
    }

    /**
     * Admits one attempt of a request outside a call's own admission (a client built with {@code admission(limiter)}
     * uses {@link #forCall}): nothing reports its outcome here, so it spends room without holding it in flight.
     */
    @Override
    public CompletableFuture<Void> admit(HttpRequest request, int attempt) {
        return admitCall(new CallState(budgetFor(request.route(), request), estimate(request), false),
                request);
    }

    private CompletableFuture<Void> admitCall(CallState call, HttpRequest request) {
        if (closed) {
            return CompletableFuture.failedFuture(new io.sluice.http.ClientClosedException(request.route().toString(),
                    "the rate limiter is closed"));
        }
        if (fleet != null) {
            CompletableFuture<Fleet.Answer> asked = fleet.acquire(call.budget, mode == Mode.WAIT,
                    (long) Math.ceil(call.tokenCost));
            if (asked != null) {
                return admitViaFleet(call, asked, System.nanoTime());
            }
        }
        return admitLocally(call, null, 0);
    }

    /**
     * Admission by the local budget: requests and tokens, less what the fleet granted ({@code holder}: the grant,
     * which the attempt takes over once admitted; null: no grant); {@code waitedSince} (non-zero) is when an attempt
     * the fleet held began to wait.
     */
    private CompletableFuture<Void> admitLocally(CallState call, AtomicReference<Fleet.Held> holder, long waitedSince) {
        Budget b = call.budget;
        long now = System.nanoTime();
        Fleet.Held grant = holder == null ? null : holder.get();
        Budget.Waiter waiter;
        synchronized (b) {
            if (b.fitsNow(call.tokenCost, now, grant)) {
                b.take(call, call.tokenCost, holder);
                if (waitedSince != 0) {
                    shaped.increment();
                    shapedNanos.add(now - waitedSince);
                } else {
                    admittedAtOnce.increment();
                }
                return ADMITTED;
            }
            long wait = b.nanosUntilRoom(call.tokenCost, now, grant);
            if (mode == Mode.FAIL || (maxWait != null && wait > maxWait.toNanos())) {
                rejected.increment();
                String dim = b.blockedBy(call.tokenCost, now, grant);
                long retry = wait < 0 ? PROBE_NANOS : wait;
                return CompletableFuture.failedFuture(new RateLimitedException(b.route, dim, Duration.ofNanos(retry)));
            }
            if (closed) { // close() may have swept the queues since admitCall looked: queue nothing it will not fail
                return CompletableFuture.failedFuture(new io.sluice.http.ClientClosedException(b.route,
                        "the rate limiter is closed"));
            }
            waiter = new Budget.Waiter(call, call.tokenCost, waitedSince != 0 ? waitedSince : now, holder, grant);
            b.waiters.add(waiter);
            schedule(b, wait, now);
        }
        if (closed) {
            // close() ran while we queued (its sweep may have missed us, and the timer takes no more tasks)
            synchronized (b) {
                b.waiters.remove(waiter);
            }
            waiter.admitted.completeExceptionally(new io.sluice.http.ClientClosedException(b.route,
                    "the rate limiter was closed while the request waited for room"));
        }
        // A waiter cancelled by its call (deadline, caller cancel) leaves the queue; the ones behind may fit now.
        waiter.admitted.whenComplete((v, e) -> {
            if (e != null) {
                drain(b);
            }
        });
        return waiter.admitted;
    }

    /**
     * Admission through the fleet's shared budget, whose answer ({@code asked}) arrives on a Lettuce thread or the
     * timer, never making anyone wait: no answer in time means the local budget decides; a request granted by the
     * fleet then waits out its reservation on the timer and is admitted locally for what the fleet did not grant.
     * What the fleet granted is held by {@code holder} until the admitted attempt takes it over ({@link Budget#take});
     * if the admission fails first (cancelled, refused locally, closed) it goes back to the fleet: exactly one of the
     * two takes it.
     */
    private CompletableFuture<Void> admitViaFleet(CallState call, CompletableFuture<Fleet.Answer> asked, long since) {
        Budget b = call.budget;
        CompletableFuture<Void> result = new CompletableFuture<>();
        AtomicReference<Fleet.Held> holder = new AtomicReference<>();
        pendingFleet.add(result);
        if (closed) { // close() may have failed pendingFleet before we joined it
            result.completeExceptionally(new io.sluice.http.ClientClosedException(b.route, "the rate limiter is closed"));
        }
        result.whenComplete((v, e) -> {
            pendingFleet.remove(result);
            if (e != null) {
                giveBackToFleet(b, holder.getAndSet(null));
            }
        });
        asked.whenComplete((answer, ignored) -> { // the fleet's futures never fail: null is "decide locally"
            if (answer != null && answer.taken()) {
                holder.set(answer.held());
            }
            if (result.isDone()) { // cancelled or closed while Redis answered
                giveBackToFleet(b, holder.getAndSet(null));
                return;
            }
            if (answer == null) {
                relay(admitLocally(call, null, 0), result, call);
                return;
            }
            long wait = Math.max(0, answer.waitNanos());
            if (!answer.taken() || (maxWait != null && wait > maxWait.toNanos())) {
                rejected.increment();
                result.completeExceptionally(new RateLimitedException(b.route,
                        answer.blockedBy() != null ? answer.blockedBy() : "requests", Duration.ofNanos(Math.max(1, wait))));
                return;
            }
            if (wait == 0) {
                relay(admitLocally(call, holder, 0), result, call);
                return;
            }
            try {
                java.util.concurrent.ScheduledFuture<?> t = timer.schedule(
                        () -> relay(admitLocally(call, holder, since), result, call), wait, TimeUnit.NANOSECONDS);
                result.whenComplete((v, e) -> t.cancel(false));
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                result.completeExceptionally(new io.sluice.http.ClientClosedException(b.route,
                        "the rate limiter was closed while the request waited for room"));
            }
        });
        return result;
    }

    private void giveBackToFleet(Budget b, Fleet.Held held) {
        if (held != null && fleet != null) {
            fleet.giveBack(b, held);
        }
    }

    /**
     * Completes {@code result} as {@code local} does; a local admission nobody takes any more gives its room back
     * (and, through the call's state, what it took over of the fleet's grant).
     */
    private void relay(CompletableFuture<Void> local, CompletableFuture<Void> result, CallState call) {
        local.whenComplete((v, e) -> {
            if (e != null) {
                result.completeExceptionally(e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                        ? e.getCause() : e);
            } else if (!result.complete(null)) {
                giveBack(call); // admitted as nobody wanted it any more
            }
        });
        result.whenComplete((v, e) -> {
            if (e != null) {
                local.cancel(false);
            }
        });
    }

    /** An attempt of this call did not count at the server: its room (and its fleet request) comes back. */
    private void giveBack(CallState call) {
        Fleet.Held fleetRoom;
        synchronized (call.budget) {
            fleetRoom = call.abandon();
        }
        giveBackToFleet(call.budget, fleetRoom);
        drain(call.budget);
    }

    /** Arms the budget's timer for {@code waitNanos} from now (or for a probe when it does not refill). Under b. */
    private void schedule(Budget b, long waitNanos, long now) {
        long delay = waitNanos < 0 ? PROBE_NANOS : Math.max(waitNanos, TimeUnit.MICROSECONDS.toNanos(100));
        long due = now + delay;
        if (b.timer != null && !b.timer.isDone() && b.timerDueNanos <= due) {
            return; // an earlier drain is already due: it re-arms for what is left
        }
        if (b.timer != null) {
            b.timer.cancel(false);
        }
        try {
            b.timer = timer.schedule(() -> timerFired(b), delay, TimeUnit.NANOSECONDS);
            b.timerDueNanos = due;
        } catch (java.util.concurrent.RejectedExecutionException e) {
            b.timer = null; // closed: close() fails the waiters
        }
    }

    private void timerFired(Budget b) {
        List<Budget.Waiter> ready;
        long now = System.nanoTime();
        synchronized (b) {
            b.timer = null;
            ready = b.admitReady(now);
            Budget.Waiter head = b.waiters.peek();
            if (ready.isEmpty() && head != null && b.nanosUntilFits(head, now) < 0) {
                Budget.Waiter probe = b.probeIfStuck();
                ready = probe == null ? ready : List.of(probe);
            }
        }
        complete(ready, now);
        drain(b); // re-arms for the next waiter
    }

    /** Admits the waiters that fit now, outside the monitor, and re-arms the timer for the next. */
    private void drain(Budget b) {
        List<Budget.Waiter> ready;
        long now = System.nanoTime();
        synchronized (b) {
            ready = b.admitReady(now);
            Budget.Waiter head = b.waiters.peek();
            if (head != null) {
                schedule(b, b.nanosUntilFits(head, now), now);
            }
        }
        complete(ready, now);
    }

    private void complete(List<Budget.Waiter> ready, long now) {
        for (Budget.Waiter w : ready) {
            if (w.admitted.complete(null)) {
                shaped.increment();
                shapedNanos.add(now - w.since);
            } else {
                giveBack(w.call); // cancelled as it was admitted: give the room back
            }
        }
    }

    // ------------------------------------------------------------------ responses

    /**
     * One call's view of its budget: its requests going out, each response head, and the call's end, which settles
     * what the call still holds.
     */
    private final class BudgetListener implements CallListener {
        private final CallState state;

        BudgetListener(CallState state) {
            this.state = state;
        }

        @Override
        public void requestSending(HttpRequest sent) {
            synchronized (state.budget) {
                state.sending();
            }
        }

        @Override
        public void responseHeaders(int status, Headers headers, long nanosSinceStart) {
            observe(state, status, headers);
        }

        @Override
        public void callEnd(int status, long bodyBytes, long nanosSinceStart) {
            ended();
        }

        @Override
        public void callFailed(Phase phase, SluiceHttpException failure) {
            ended();
        }

        @Override
        public void callCancelled() {
            ended();
        }

        private void ended() {
            Fleet.Held fleetRoom;
            synchronized (state.budget) {
                fleetRoom = state.ended();
            }
            giveBackToFleet(state.budget, fleetRoom);
            drain(state.budget);
        }
    }

    private void observe(CallState state, int status, Headers headers) {
        Instant wall = clock.instant();
        long now = System.nanoTime();
        RateLimitSnapshot s = RateLimitHeaders.parse(headers, wall);
        Budget b = state.budget;
        long blockNanos = -1;
        long limit;
        double perNano;
        long ceiling;
        long tokenLimit;
        double tokenPerNano;
        long tokenCeiling;
        synchronized (b) {
            state.answered();
            b.requests.observe(s.requestLimit(), s.requestRemaining(), toNanos(s.requestReset(), wall, now), now,
                    s.requestWindowed());
            b.tokens.observe(s.tokenLimit(), s.tokenRemaining(), toNanos(s.tokenReset(), wall, now), now);
            if (status == 429) {
                seen429.increment();
                Duration block = s.retryAfter() != null ? s.retryAfter()
                        : s.requestReset() != null ? Duration.between(wall, s.requestReset()) : Duration.ofSeconds(1);
                blockNanos = Math.max(0, (block.compareTo(RateLimitHeaders.MAX_HORIZON) > 0
                        ? RateLimitHeaders.MAX_HORIZON : block).toNanos());
                b.requests.exhausted(blockNanos, now);
            }
            double l = b.requests.limit();
            limit = Double.isInfinite(l) ? -1 : (long) l;
            perNano = b.requests.fleetRatePerNano();
            ceiling = s.requestRemaining() < 0 || status == 429 ? -1
                    : (long) Math.max(0, Math.floor(s.requestRemaining() - b.requests.inFlight()));
            double tl = b.tokens.limit();
            tokenLimit = Double.isInfinite(tl) ? -1 : (long) tl;
            tokenPerNano = b.tokens.fleetRatePerNano();
            tokenCeiling = s.tokenRemaining() < 0 || status == 429 ? -1
                    : (long) Math.max(0, Math.floor(s.tokenRemaining() - b.tokens.inFlight()));
        }
        if (fleet != null) { // outside the monitor: the fleet's calls may complete futures inline
            fleet.learned(b, false, limit, perNano, ceiling);
            fleet.learned(b, true, tokenLimit, tokenPerNano, tokenCeiling);
            if (blockNanos > 0) {
                fleet.blocked(b, blockNanos);
            }
        }
        drain(b);
    }

    private static long toNanos(Instant at, Instant wall, long now) {
        if (at == null) {
            return 0;
        }
        Duration d = Duration.between(wall, at);
        return now + Math.max(1, d.compareTo(RateLimitHeaders.MAX_HORIZON) > 0 ? RateLimitHeaders.MAX_HORIZON.toNanos()
                : d.toNanos());
    }

    // ------------------------------------------------------------------ keys, stats, close

    private Budget budgetFor(Route route, HttpRequest request) {
        String hash = keyHash(request);
        return budgets.computeIfAbsent(new BudgetKey(route.toString(), hash), k -> new Budget(k.route(), k.keyHash()));
    }

    /** The first 16 hex digits of the SHA-256 of the request's credential; {@code none} without one. */
    static String keyHash(HttpRequest request) {
        Headers h = request.headers();
        String credential = h.get("x-api-key");
        if (credential == null) {
            credential = h.get("authorization");
        }
        if (credential == null) {
            credential = h.get("api-key"); // Azure OpenAI
        }
        if (credential == null) {
            credential = h.get("x-goog-api-key"); // Gemini
        }
        if (credential == null) {
            credential = queryKey(request.uri().getRawQuery()); // ?key= / ?api_key=
        }
        if (credential == null) {
            return "none";
        }
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(credential.trim().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }

    /** A key given in the query string ({@code key=} or {@code api_key=}), or null. */
    private static String queryKey(String rawQuery) {
        if (rawQuery == null) {
            return null;
        }
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                String name = pair.substring(0, eq);
                if (name.equalsIgnoreCase("key") || name.equalsIgnoreCase("api_key")) {
                    // decoded: one key, percent-encoded or not, is one budget
                    return java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                }
            }
        }
        return null;
    }

    /** The request's token estimate; a negative one (a custom estimate's mistake) counts as 0, never as room. */
    private long estimate(HttpRequest request) {
        return Math.max(0, tokenEstimate.applyAsLong(request));
    }

    /** Totals and every budget, now. */
    public RateLimitStats stats() {
        long now = System.nanoTime();
        List<RateLimitStats.BudgetStats> out = new ArrayList<>();
        for (Budget b : budgets.values()) {
            synchronized (b) {
                out.add(new RateLimitStats.BudgetStats(b.route, b.keyHash, b.requests.available(now),
                        b.tokens.available(now), (int) b.waiters.stream().filter(w -> !w.admitted.isDone()).count()));
            }
        }
        return new RateLimitStats(admittedAtOnce.sum(), shaped.sum(), shapedNanos.sum(), rejected.sum(),
                seen429.sum(), fleet == null ? 0 : fleet.admitted(), fleet == null ? 0 : fleet.fallbacks(),
                fleet == null ? 0 : fleet.errors(), fleet != null && fleet.available(), List.copyOf(out));
    }

    /**
     * Stops the timer; requests still waiting fail with {@link io.sluice.http.ClientClosedException}; in fleet mode,
     * releases the Redis resources the limiter owns (see {@link RedisBudgets}). Idempotent.
     */
    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
        for (Budget b : budgets.values()) {
            List<Budget.Waiter> waiting;
            synchronized (b) {
                waiting = new ArrayList<>(b.waiters);
                b.waiters.clear();
            }
            for (Budget.Waiter w : waiting) {
                w.admitted.completeExceptionally(new io.sluice.http.ClientClosedException(b.route,
                        "the rate limiter was closed while the request waited for room"));
            }
        }
        for (CompletableFuture<Void> f : List.copyOf(pendingFleet)) {
            f.completeExceptionally(new io.sluice.http.ClientClosedException("rate limiter",
                    "the rate limiter was closed while the request waited for room"));
        }
        if (fleet != null) {
            fleet.close();
        }
        LOG.debug("rate limiter closed");
    }

    /** Settings of a {@link RateLimiter}. <b>Thread-safety:</b> not thread-safe; build once. */
    public static final class Builder {
        private Mode mode = Mode.WAIT;
        private Duration maxWait;
        private ToLongFunction<HttpRequest> tokenEstimate = TokenEstimate::of;
        private Clock clock = Clock.systemUTC();
        private RedisBudgets fleet;

        private Builder() {
        }

        /**
         * Fleet mode: the request and token budgets live in Redis, shared by every process using the same Redis, key
         * prefix and API key; Redis slow or down falls back to this process's local budget (see
         * {@link RedisBudgets}). Null (the default): local budgets only.
         */
        public Builder fleet(RedisBudgets fleet) {
            this.fleet = fleet;
            return this;
        }

        /** {@link Mode#WAIT} (the default) or {@link Mode#FAIL}. */
        public Builder mode(Mode mode) {
            this.mode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /**
         * In {@link Mode#WAIT}, a request whose wait for room would exceed this fails at once with
         * {@link RateLimitedException} instead (default: no bound but the request's own deadline).
         */
        public Builder maxWait(Duration maxWait) {
            if (maxWait != null && maxWait.isNegative()) {
                throw new IllegalArgumentException("negative maxWait: " + maxWait);
            }
            this.maxWait = maxWait;
            return this;
        }

        /** How many tokens a request will cost, before the provider says ({@link TokenEstimate#of} by default). */
        public Builder tokenEstimate(ToLongFunction<HttpRequest> estimate) {
            this.tokenEstimate = Objects.requireNonNull(estimate, "estimate");
            return this;
        }

        /** The wall clock that RFC 3339 reset instants are read against (tests). */
        Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        public RateLimiter build() {
            return new RateLimiter(this);
        }
    }
}

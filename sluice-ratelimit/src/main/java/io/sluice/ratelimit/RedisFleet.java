package io.sluice.ratelimit;

import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TokensInheritanceStrategy;
import io.github.bucket4j.distributed.AsyncBucketProxy;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.proxy.AsyncProxyManager;
import io.github.bucket4j.distributed.proxy.optimization.Optimizations;
import io.github.bucket4j.redis.lettuce.Bucket4jLettuce;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Fleet} on Redis: per route and key hash, one Bucket4j distributed bucket (compare-and-swap on Lettuce,
 * async API only) shaped like the provider's announced request limit, and one like its token limit. Every operation is bounded by the
 * timeout on the limiter's timer; a failure marks Redis unavailable (one WARN), after which admissions go
 * local at once and a single probe chain (connect, or PING) retries with backoff until Redis answers (one INFO).
 *
 * <p><b>Thread-safety:</b> thread-safe. Callbacks run on Lettuce's event loops or the limiter's timer; neither
 * ever waits for Redis. <b>Ownership:</b> see {@link RedisBudgets}.
 */
final class RedisFleet implements Fleet {

    private static final Logger LOG = LoggerFactory.getLogger(RedisBudgets.class);
    private static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);
    /** How long an idle bucket stays in Redis once full again: a restarted process finds it while it matters. */
    private static final Duration KEEP_AFTER_FULL = Duration.ofSeconds(60);

    /**
     * One dimension (requests or tokens) of one budget, shared: its Bucket4j bucket in Redis. Its limit and period
     * are guarded by this object's monitor; 0 until a response announced the dimension's limit.
     */
    private final class Shared {
        final Budget budget;
        final boolean tokens;
        final String key;
        long limit;
        long periodNanos;
        /** The refill rate the bucket was configured with, units per nanosecond. */
        double perNano;
        /** Built for {@link #manager} at the time; rebuilt when a new connection replaced it. */
        volatile AsyncBucketProxy bucket;
        volatile AsyncProxyManager<String> builtFor;
        final AtomicBoolean correcting = new AtomicBoolean();

        Shared(Budget budget, boolean tokens) {
            this.budget = budget;
            this.tokens = tokens;
            // the request bucket's key names the budget; the token bucket's adds a suffix no key hash can end with
            this.key = settings.keyPrefix + budget.route + ":" + budget.keyHash + (tokens ? ":tokens" : "");
        }

        /** The bucket, or null while the limit is unknown or there is no connection. */
        AsyncBucketProxy bucket() {
            AsyncProxyManager<String> m = manager;
            if (m == null || limit() <= 0) {
                return null;
            }
            if (builtFor != m) {
                // The supplier runs only when Redis has no bucket for the key (first use, expired, Redis restarted
                // empty): it starts from what the local budget knows now, so a fresh bucket is not a free burst.
                bucket = m.builder().withOptimization(Optimizations.batching())
                        .build(key, () -> CompletableFuture.completedFuture(configuration(true)));
                builtFor = m;
            }
            return bucket;
        }

        synchronized long limit() {
            return limit;
        }

        synchronized BucketConfiguration configuration(boolean fromLocalEstimate) {
            long cap = limit;
            long initial = cap;
            if (fromLocalEstimate) {
                double local;
                synchronized (budget) {
                    local = (tokens ? budget.tokens : budget.requests).available(System.nanoTime());
                }
                initial = Double.isNaN(local) ? cap : (long) Math.max(0, Math.min(cap, Math.floor(local)));
            }
            long start = initial;
            return BucketConfiguration.builder()
                    .addLimit(l -> l.capacity(cap).refillGreedy(cap, Duration.ofNanos(periodNanos)).initialTokens(start))
                    .build();
        }

        /** How long one unit takes to refill. */
        synchronized long nanosPerUnit() {
            return periodNanos / Math.max(1, limit);
        }
    }

    /** The shared buckets of one budget. */
    private final class Entry {
        final Shared requests;
        final Shared tokens;

        Entry(Budget budget) {
            this.requests = new Shared(budget, false);
            this.tokens = new Shared(budget, true);
        }
    }

    private final RedisBudgets settings;
    private final ScheduledExecutorService timer;
    private final long timeoutNanos;
    private final long guardNanos;
    private final RedisClient client;
    /** The resources of our own client (null with the caller's client or connection). */
    private final ClientResources resources;
    private final boolean ownsClient;
    private final boolean ownsConnection;
    private final ConcurrentHashMap<Budget, Entry> entries = new ConcurrentHashMap<>();
    private final LongAdder admitted = new LongAdder();
    private final LongAdder fallbacks = new LongAdder();
    private final LongAdder errors = new LongAdder();
    /** One probe chain at a time: no reconnect storm, whatever number of admissions failed. */
    private final AtomicBoolean probing = new AtomicBoolean();
    private volatile StatefulRedisConnection<String, byte[]> connection;
    private volatile AsyncProxyManager<String> manager;
    private volatile boolean up;
    /** The current outage was logged (once); reset when Redis answers again. */
    private volatile boolean warned;
    private volatile boolean closed;
    private long backoffNanos; // the probe chain's own; one at a time

    RedisFleet(RedisBudgets settings, ScheduledExecutorService timer) {
        this.settings = settings;
        this.timer = timer;
        this.timeoutNanos = settings.timeout.toNanos();
        this.guardNanos = settings.guard.toNanos();
        this.backoffNanos = settings.retryMin.toNanos();
        if (settings.connection != null) {
            this.client = null;
            this.resources = null;
            this.ownsClient = false;
            this.ownsConnection = false;
            useConnection(settings.connection);
            this.up = true; // the caller's connection: trust it until an operation fails
        } else {
            this.ownsConnection = true;
            this.ownsClient = settings.client == null;
            // Our client's reconnect backoff follows ours (Lettuce's default grows to 30 s: recovery would lag),
            // on one I/O thread: it carries one connection.
            this.resources = ownsClient ? DefaultClientResources.builder().ioThreadPoolSize(1)
                    .computationThreadPoolSize(1).reconnectDelay(Delay.exponential(settings.retryMin, settings.retryMax,
                            2, TimeUnit.MILLISECONDS)).build() : null;
            this.client = ownsClient ? ownClient(settings, resources) : settings.client;
            probing.set(true); // the first connect is the first probe: no other starts meanwhile
            probe();
        }
    }

    private static RedisClient ownClient(RedisBudgets settings, ClientResources resources) {
        RedisClient c = RedisClient.create(resources);
        Duration connect = connectTimeout(settings);
        // Our client: commands fail at once while disconnected (rather than queue until Redis returns), and Lettuce
        // expires any command after the connect timeout, so nothing piles up behind a silent Redis.
        c.setOptions(ClientOptions.builder().autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .socketOptions(SocketOptions.builder().connectTimeout(connect).build())
                .timeoutOptions(TimeoutOptions.enabled(connect)).build());
        return c;
    }

    private static Duration connectTimeout(RedisBudgets settings) {
        Duration t = settings.timeout.multipliedBy(10);
        return t.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : t;
    }

    private void useConnection(StatefulRedisConnection<String, byte[]> c) {
        connection = c;
        manager = Bucket4jLettuce.casBasedBuilder(c)
                .expirationAfterWrite(ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(KEEP_AFTER_FULL))
                .build().asAsync();
    }

    // ------------------------------------------------------------------ operations

    @Override
    public CompletableFuture<Answer> acquire(Budget b, boolean reserve, long tokens) {
        Entry e = entries.get(b);
        if (e == null || closed) {
            return null; // no limit announced yet: nothing to share
        }
        boolean requestsKnown = e.requests.limit() > 0;
        long tokenLimit = tokens > 0 ? e.tokens.limit() : 0;
        if (!requestsKnown && tokenLimit <= 0) {
            return null;
        }
        AsyncBucketProxy req = up && requestsKnown ? e.requests.bucket() : null;
        AsyncBucketProxy tok = up && tokenLimit > 0 ? e.tokens.bucket() : null;
        if ((requestsKnown && req == null) || (tokenLimit > 0 && tok == null)) {
            fallbacks.increment();
            return null;
        }
        // one request never needs more than the whole token budget (as locally: Dimension.capped)
        long t = tok == null ? 0 : Math.min(tokens, tokenLimit);
        CompletableFuture<Answer> op;
        try {
            op = reserve ? reserve(e, req, tok, t) : tryTake(e, req, tok, t);
        } catch (RuntimeException ex) {
            fallbacks.increment();
            failed(ex);
            return null;
        }
        CompletableFuture<Answer> out = new CompletableFuture<>();
        ScheduledFuture<?> deadline;
        try {
            deadline = timer.schedule(() -> {
                if (out.complete(null)) {
                    fallbacks.increment();
                    failed(new TimeoutException("no answer from Redis in " + settings.timeout.toMillis() + " ms"));
                }
            }, timeoutNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closing) {
            op.thenAccept(late -> giveBack(b, late.held())); // closing: whatever it takes is not used
            return null;
        }
        op.whenComplete((answer, ex) -> {
            deadline.cancel(false);
            if (ex != null) {
                if (out.complete(null)) {
                    fallbacks.increment();
                    failed(ex);
                }
                return;
            }
            answered();
            if (answer.taken()) {
                admitted.increment(); // counted before the admission can be seen complete
            }
            if (!out.complete(answer)) {
                if (answer.taken()) {
                    admitted.decrement();
                }
                giveBack(b, answer.held()); // it answered after the local budget decided: what it took is not used
            }
        });
        return out;
    }

    /** {@code error} as a stage's failure, unwrapped once (the next stage reports its cause). */
    private static java.util.concurrent.CompletionException completion(Throwable error) {
        return error instanceof java.util.concurrent.CompletionException c ? c
                : new java.util.concurrent.CompletionException(error);
    }

    /** One outcome of a Bucket4j operation, kept so that the other's success can be undone when one fails. */
    private record Outcome(Long nanos, Throwable error) {
        static Outcome of(Long nanos, Throwable error) {
            return new Outcome(nanos, error);
        }

        boolean took() {
            return error == null && nanos != Long.MAX_VALUE;
        }
    }

    /**
     * WAIT: reserves one request and {@code t} tokens now, in both shared buckets at once; the attempt waits for the
     * later of the two. When one bucket refuses (or fails) what the other took is returned.
     */
    private CompletableFuture<Answer> reserve(Entry e, AsyncBucketProxy req, AsyncBucketProxy tok, long t) {
        CompletableFuture<Long> r = req == null ? CompletableFuture.completedFuture(0L) : req.consumeIgnoringRateLimits(1);
        CompletableFuture<Long> k;
        try {
            k = tok == null ? CompletableFuture.completedFuture(0L) : tok.consumeIgnoringRateLimits(t);
        } catch (RuntimeException ex) {
            k = CompletableFuture.failedFuture(ex); // the request reserved above is returned below
        }
        return r.handle(Outcome::of).thenCombine(k.handle(Outcome::of), (ro, ko) -> {
            if (ro.took() && ko.took()) {
                long wait = Math.max(ro.nanos(), ko.nanos());
                // the longer wait names the budget that keeps it out, should the wait exceed the caller's maxWait
                return new Answer(true, wait > 0 ? wait + guardNanos : 0, new Held(req != null, t),
                        ko.nanos() > ro.nanos() ? "tokens" : "requests");
            }
            if (ro.took() && req != null) {
                req.addTokens(1);
            }
            if (ko.took() && tok != null) {
                tok.addTokens(t);
            }
            Throwable error = ro.error() != null ? ro.error() : ko.error();
            if (error != null) {
                throw completion(error);
            }
            // more than a bucket's capacity (another process configured a lower limit): wait a unit and ask again
            boolean tokensShort = !ko.took();
            return new Answer(false, (tokensShort ? e.tokens : e.requests).nanosPerUnit(), null,
                    tokensShort ? "tokens" : "requests");
        });
    }

    /** FAIL: takes one request, then {@code t} tokens, only if free now; a request taken for a refused token cost is returned. */
    private CompletableFuture<Answer> tryTake(Entry e, AsyncBucketProxy req, AsyncBucketProxy tok, long t) {
        CompletableFuture<ConsumptionProbe> r = req == null ? CompletableFuture.completedFuture(null)
                : req.tryConsumeAndReturnRemaining(1);
        return r.thenCompose(rp -> {
            if (rp != null && !rp.isConsumed()) {
                return CompletableFuture.completedFuture(new Answer(false, finite(rp.getNanosToWaitForRefill(), e.requests),
                        null, "requests"));
            }
            if (tok == null) {
                return CompletableFuture.completedFuture(new Answer(true, 0, new Held(true, 0), null));
            }
            CompletableFuture<ConsumptionProbe> k;
            try {
                k = tok.tryConsumeAndReturnRemaining(t);
            } catch (RuntimeException ex) {
                k = CompletableFuture.failedFuture(ex); // the request taken above is returned below
            }
            return k.handle((tp, ex) -> {
                if (ex != null || !tp.isConsumed()) {
                    if (rp != null) {
                        req.addTokens(1);
                    }
                    if (ex != null) {
                        throw completion(ex);
                    }
                    return new Answer(false, finite(tp.getNanosToWaitForRefill(), e.tokens), null, "tokens");
                }
                return new Answer(true, 0, new Held(rp != null, t), null);
            });
        });
    }

    /**
     * Bucket4j's "never" ({@code Long.MAX_VALUE}: a cost above the bucket's capacity, while another process's
     * smaller limit configures it) becomes one window of {@code shared}: the configuration converges on the limit
     * the responses announce, so a retry within a window finds out.
     */
    private static long finite(long nanos, Shared shared) {
        if (nanos != Long.MAX_VALUE) {
            return nanos;
        }
        synchronized (shared) {
            return Math.max(1, shared.periodNanos);
        }
    }

    @Override
    public void giveBack(Budget b, Held held) {
        Entry e = held == null ? null : entries.get(b);
        if (e == null || !up || closed) {
            return;
        }
        // best effort: a lost give-back only makes the fleet a little more careful; the next acquire finds out
        // whether Redis is there
        if (held.request()) {
            addBack(e.requests, 1);
        }
        if (held.tokens() > 0) {
            addBack(e.tokens, held.tokens());
        }
    }

    private static void addBack(Shared shared, long units) {
        AsyncBucketProxy bucket = shared.bucket();
        if (bucket != null) {
            try {
                bucket.addTokens(units);
            } catch (RuntimeException ignored) {
                // best effort
            }
        }
    }

    @Override
    public void learned(Budget b, boolean tokens, long limit, double perNano, long ceiling) {
        if (limit <= 0 || !(perNano > 0) || closed) {
            return;
        }
        try {
            Entry e = entries.computeIfAbsent(b, Entry::new);
            Shared shared = tokens ? e.tokens : e.requests;
            configure(shared, limit, perNano);
            if (ceiling >= 0) {
                correct(shared, ceiling);
            }
        } catch (RuntimeException ex) {
            errors.increment(); // best effort: the next response tries again
        }
    }

    /**
     * Drains the shared bucket down to {@code ceiling}. The bucket is shaped by the announced limit but started
     * from one process's estimate, and other clients of the key may spend outside it; the provider's figures
     * correct it, as they correct the local budget. At most one correction per bucket is in flight.
     */
    private void correct(Shared shared, long ceiling) {
        AsyncBucketProxy bucket = !up ? null : shared.bucket();
        if (bucket == null || !shared.correcting.compareAndSet(false, true)) {
            return;
        }
        bucket.getAvailableTokens()
                .thenCompose(avail -> avail > ceiling ? bucket.tryConsumeAsMuchAsPossible(avail - ceiling)
                        : CompletableFuture.completedFuture(0L))
                .whenComplete((drained, ex) -> shared.correcting.set(false));
    }

    private void configure(Shared shared, long limit, double perNano) {
        // 1 % slower than announced, so that the provider's bucket gains on the shared one rather than the reverse
        // (clocks and rounding differ); whole milliseconds, so that processes that read slightly different resets
        // agree on one configuration.
        long period = Math.max(1, Math.round(limit / perNano * 1.01 / 1e6)) * 1_000_000L;
        AsyncBucketProxy current;
        synchronized (shared) {
            if (shared.limit == limit && Math.abs(perNano - shared.perNano) <= shared.perNano * 0.01) {
                return; // the same limit and rate (the rate bound changes only when it is much more precise)
            }
            boolean first = shared.limit == 0;
            shared.limit = limit;
            shared.periodNanos = period;
            shared.perNano = perNano;
            current = first ? null : shared.bucket;
        }
        boolean fresh = current == null;
        if (fresh && up) {
            // The first limit this process learned: the bucket may exist already, made by another process from a
            // different announcement (a limit raised since, or a bucket left from earlier). The configuration
            // follows the latest announcement, as each process's local budget does; a bucket that does not exist
            // yet is created from the local estimate first.
            current = shared.bucket();
        }
        if (current != null && up) {
            try {
                // AS_IS keeps an existing bucket's tokens; a bucket the replacement creates starts from the local
                // estimate, as one the supplier creates does (a fresh bucket must not be a free burst)
                current.replaceConfiguration(shared.configuration(fresh), TokensInheritanceStrategy.AS_IS);
            } catch (RuntimeException ignored) {
                // best effort; a bucket recreated later gets the new limit from the supplier
            }
        }
    }

    @Override
    public void blocked(Budget b, long blockNanos) {
        Entry e = entries.get(b);
        Shared requests = e == null ? null : e.requests;
        AsyncBucketProxy bucket = requests == null || !up || closed ? null : requests.bucket();
        if (bucket == null || blockNanos <= 0) {
            return;
        }
        long perRequest = Math.max(1, requests.nanosPerUnit());
        long limit = requests.limit();
        // Empty the shared request bucket, then owe what refills during the block (at most one window): every
        // process's next reservation waits out the 429's retry-after, whichever dimension the 429 was for.
        long owe = Math.min(limit, (blockNanos + perRequest - 1) / perRequest);
        try {
            bucket.tryConsumeAsMuchAsPossible().thenCompose(x -> bucket.consumeIgnoringRateLimits(owe));
        } catch (RuntimeException ignored) {
            // best effort
        }
    }

    // ------------------------------------------------------------------ availability

    private void answered() {
        if (!up && !closed) {
            up = true;
        }
    }

    private void failed(Throwable ex) {
        errors.increment();
        up = false;
        if (closed) {
            return;
        }
        if (!warned) {
            warned = true;
            LOG.warn("Redis for fleet rate limits is unavailable ({}): admitting from each process's local budget "
                    + "until it answers again", describe(ex));
        }
        if (probing.compareAndSet(false, true)) {
            scheduleProbe(settings.retryMin.toNanos());
        }
    }

    private void scheduleProbe(long delayNanos) {
        try {
            timer.schedule(this::probe, delayNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closing) {
            probing.set(false);
        }
    }

    /** One probe: connect when there is no connection yet, else PING. Runs only inside the single probe chain. */
    private void probe() {
        if (closed) {
            probing.set(false);
            return;
        }
        CompletableFuture<Void> attempt = connection == null ? connect() : ping();
        attempt.whenComplete((v, ex) -> {
            if (ex == null) {
                backoffNanos = settings.retryMin.toNanos();
                up = true;
                probing.set(false);
                if (warned) {
                    warned = false;
                    LOG.info("Redis for fleet rate limits answers again: admitting from the shared budgets");
                }
            } else {
                if (!warned) {
                    failed(ex); // the first connect failed: warn once; the chain continues below
                } else {
                    errors.increment();
                }
                long delay = backoffNanos;
                backoffNanos = Math.min(settings.retryMax.toNanos(), backoffNanos * 2);
                scheduleProbe(delay);
            }
        });
    }

    private CompletableFuture<Void> connect() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        CompletableFuture<StatefulRedisConnection<String, byte[]>> cf;
        try {
            cf = client.connectAsync(CODEC, settings.uri).toCompletableFuture();
        } catch (RuntimeException ex) {
            return CompletableFuture.failedFuture(ex);
        }
        bound(done, connectTimeout(settings).toNanos(), "connect");
        cf.whenComplete((c, ex) -> {
            if (ex != null) {
                done.completeExceptionally(ex);
                return;
            }
            synchronized (this) {
                if (closed || done.isDone()) {
                    c.closeAsync(); // too late (timed out, or closed meanwhile): not kept
                    return;
                }
                useConnection(c);
            }
            done.complete(null);
        });
        return done;
    }

    private CompletableFuture<Void> ping() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            connection.async().ping().whenComplete((pong, ex) -> {
                if (ex != null) {
                    done.completeExceptionally(ex);
                } else {
                    done.complete(null);
                }
            });
        } catch (RuntimeException ex) {
            done.completeExceptionally(ex);
        }
        bound(done, timeoutNanos, "PING");
        return done;
    }

    private void bound(CompletableFuture<Void> f, long nanos, String what) {
        try {
            ScheduledFuture<?> t = timer.schedule(() -> f.completeExceptionally(
                    new TimeoutException(what + ": no answer from Redis in " + nanos / 1_000_000 + " ms")),
                    nanos, TimeUnit.NANOSECONDS);
            f.whenComplete((v, e) -> t.cancel(false));
        } catch (RejectedExecutionException closing) {
            f.completeExceptionally(closing);
        }
    }

    private static String describe(Throwable ex) {
        Throwable t = ex instanceof java.util.concurrent.CompletionException && ex.getCause() != null ? ex.getCause() : ex;
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    // ------------------------------------------------------------------ stats, close

    @Override
    public long admitted() {
        return admitted.sum();
    }

    @Override
    public long fallbacks() {
        return fallbacks.sum();
    }

    @Override
    public long errors() {
        return errors.sum();
    }

    @Override
    public boolean available() {
        return up;
    }

    @Override
    public void close() {
        StatefulRedisConnection<String, byte[]> c;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            up = false;
            c = connection;
        }
        if (ownsConnection && c != null) {
            c.closeAsync();
        }
        if (ownsClient) {
            try {
                // No quiet period: nothing of ours runs on these threads once the connection is closed.
                client.shutdownAsync(0, 2, TimeUnit.SECONDS).get(3, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.debug("Redis client shutdown did not finish cleanly", e);
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
            }
            try {
                // Whether or not the client's shutdown finished in time: Lettuce's threads must not outlive the limiter.
                resources.shutdown(0, 2, TimeUnit.SECONDS).get(3, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.debug("Redis client resources did not shut down cleanly", e);
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}

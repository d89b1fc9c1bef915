package io.sluice.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.TlsOptions;
import io.sluice.pool.PoolConfig;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;
import redis.embedded.RedisServer;

/**
 * Fleet mode against a real Redis ({@code embedded-redis}: a redis-server binary the test starts on a free
 * loopback port; nothing installed on the machine) and the mock provider enforcing 20 requests per 2 s: two
 * limiters (two "processes") share one budget; Redis stopped mid-run leaves calls to the local budget, with one
 * WARN, and Redis restarted brings the shared budget back, with one INFO; a Redis that accepts and never answers
 * costs an admission at most the timeout, and never holds a call.
 */
@Timeout(90)
class FleetBudgetsTest {

    private static final String KEY = "sk-fleet-test";
    private static final Duration LIMIT_WINDOW = Duration.ofSeconds(2);

    private final AtomicInteger prefixes = new AtomicInteger();
    private int redisPort;
    private RedisServer redis;
    private ListAppender<ILoggingEvent> log;

    @BeforeEach
    void startRedis() throws IOException {
        redisPort = freePort();
        redis = redisOn(redisPort);
        redis.start();
        log = new ListAppender<>();
        log.start();
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(RedisBudgets.class)).addAppender(log);
    }

    @AfterEach
    void stopRedis() throws IOException {
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(RedisBudgets.class)).detachAppender(log);
        if (redis != null && redis.isActive()) {
            redis.stop();
        }
    }

    static RedisServer redisOn(int port) throws IOException {
        // no persistence: a restarted Redis comes back empty, as after a crash without a snapshot
        return RedisServer.newRedisServer().port(port).bind("127.0.0.1").setting("save \"\"")
                .setting("appendonly no").build();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private RedisBudgets.Builder fleetAt(int port) {
        return RedisBudgets.builder("redis://127.0.0.1:" + port).keyPrefix("test-" + prefixes.incrementAndGet() + ":")
                .retryBackoff(Duration.ofMillis(100), Duration.ofMillis(400));
    }

    private static MockProvider limitedMock() {
        return MockProvider.start(MockOptions.builder().enforceRateLimits(true).rateLimitRequests(20)
                .rateLimitWindow(LIMIT_WINDOW).build());
    }

    private static ConnectionPoolManager client(RateLimiter limits, MockProvider mock) {
        return limits.instrument(ConnectionPoolManager.builder().statusRetries(false)
                .poolConfig(PoolConfig.builder().minIdle(0).maxRetries(0).build())
                .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build())).build();
    }

    private static List<CompletableFuture<HttpResponse>> send(ConnectionPoolManager client, MockProvider mock, int n) {
        return send(client, mock, n, 16);
    }

    /** {@code n} chat requests whose token cost (prompt bytes / 4 + max_tokens, as the mock charges) is ~maxTokens + 25. */
    private static List<CompletableFuture<HttpResponse>> send(ConnectionPoolManager client, MockProvider mock, int n,
                                                              int maxTokens) {
        List<CompletableFuture<HttpResponse>> sent = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            sent.add(client.send(HttpRequest.newBuilder(mock.httpsUri().resolve("/v1/chat/completions"))
                    .header("authorization", "Bearer " + KEY).header("content-type", "application/json")
                    .POST("{\"model\":\"gpt-4o-mini\",\"max_tokens\":" + maxTokens
                            + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                    .build()));
        }
        return sent;
    }

    private static List<Integer> statuses(List<CompletableFuture<HttpResponse>> sent) throws Exception {
        List<Integer> out = new ArrayList<>();
        for (CompletableFuture<HttpResponse> f : sent) {
            out.add(f.get(30, TimeUnit.SECONDS).status());
        }
        return out;
    }

    private long logged(Level level) {
        return log.list.stream().filter(e -> e.getLevel() == level).count();
    }

    private RedisBudgets shared() {
        // a generous timeout: on a loaded 2-core machine a cold JVM's first Redis round trips can be slow
        return fleetAt(redisPort).keyPrefix("test-shared:").timeout(Duration.ofMillis(500)).build();
    }

    @Test
    void twoProcessesShareOneBudget() throws Exception {
        try (MockProvider mock = limitedMock();
             // two limiters with the same Redis and key prefix: two processes of one fleet
             RateLimiter a = RateLimiter.builder().fleet(shared()).build();
             RateLimiter b = RateLimiter.builder().fleet(shared()).build();
             ConnectionPoolManager clientA = client(a, mock); ConnectionPoolManager clientB = client(b, mock)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> a.stats().fleetAvailable() && b.stats().fleetAvailable());
            assertThat(statuses(send(clientA, mock, 1))).containsOnly(200); // each learns the budget: 20 per 2 s
            assertThat(statuses(send(clientB, mock, 1))).containsOnly(200);
            // Both learned; the shared bucket was started from A's estimate and corrected by B's figures (async).
            // Let both buckets refill to full, so the burst starts from a state the mock and Redis agree on.
            Thread.sleep(400);
            List<CompletableFuture<HttpResponse>> burst = new ArrayList<>(send(clientA, mock, 20));
            burst.addAll(send(clientB, mock, 20));
            assertThat(statuses(burst)).as("40 requests against 20 per 2 s").containsOnly(200);

            assertThat(mock.stats().rateLimitRejected()).as("429s at the provider").isZero();
            RateLimitStats sa = a.stats();
            RateLimitStats sb = b.stats();
            assertThat(sa.fleetAdmitted() + sb.fleetAdmitted()).as("every burst request went through Redis").isEqualTo(40);
            assertThat(sa.fleetFallbacks() + sb.fleetFallbacks()).isZero();
            // one budget, not two: about 18 left of 20 went at once, the other ~22 waited for the refill (10 per s)
            long atOnce = sa.admittedAtOnce() + sb.admittedAtOnce() - 2;
            assertThat(atOnce).as("admitted at once across both").isBetween(14L, 21L);
            assertThat(sa.shaped() + sb.shaped()).as("waited for the shared refill").isEqualTo(40 - atOnce);
            assertThat(logged(Level.WARN)).isZero();
        }
    }

    /**
     * The token budget is shared too: against a provider whose binding limit is tokens (1 000 requests but 2 000
     * tokens per 2 s; each request costs ~100 tokens), two processes' bursts of 20 each fit in one budget of ~20
     * without a 429. Each process's local token budget alone lets both spend what they saw: twice the limit.
     */
    @Test
    void twoProcessesShareOneTokenBudget() throws Exception {
        try (MockProvider mock = MockProvider.start(MockOptions.builder().enforceRateLimits(true)
                .rateLimitRequests(1000).rateLimitTokens(2000).rateLimitWindow(LIMIT_WINDOW).build());
             RateLimiter a = RateLimiter.builder().fleet(shared()).build();
             RateLimiter b = RateLimiter.builder().fleet(shared()).build();
             ConnectionPoolManager clientA = client(a, mock); ConnectionPoolManager clientB = client(b, mock)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> a.stats().fleetAvailable() && b.stats().fleetAvailable());
            assertThat(statuses(send(clientA, mock, 1, 80))).containsOnly(200);
            assertThat(statuses(send(clientB, mock, 1, 80))).containsOnly(200);
            Thread.sleep(400);
            List<CompletableFuture<HttpResponse>> burst = new ArrayList<>(send(clientA, mock, 20, 80));
            burst.addAll(send(clientB, mock, 20, 80));
            assertThat(statuses(burst)).as("40 requests of ~100 tokens against 2 000 tokens per 2 s").containsOnly(200);
            assertThat(mock.stats().rateLimitRejected()).as("429s at the provider").isZero();
            RateLimitStats sa = a.stats();
            RateLimitStats sb = b.stats();
            assertThat(sa.fleetAdmitted() + sb.fleetAdmitted()).as("every burst request went through Redis").isEqualTo(40);
            assertThat(sa.shaped() + sb.shaped()).as("about half waited for the shared token refill").isBetween(15L, 26L);
            assertThat(logged(Level.WARN)).isZero();
        }
    }

    /**
     * In FAIL mode a request the shared token bucket refuses gives back the shared request it took first: with 30
     * requests but only ~10 requests' worth of tokens per minute, 40 refusals in a row are all for tokens. Had each
     * refusal kept its request, the request bucket would run dry after 30 and the rest would be refused for requests.
     */
    @Test
    void aRequestRefusedForTokensGivesBackItsSharedRequest() throws Exception {
        try (MockProvider mock = MockProvider.start(MockOptions.builder().enforceRateLimits(true)
                .rateLimitRequests(30).rateLimitTokens(1000).rateLimitWindow(Duration.ofMinutes(1)).build());
             RateLimiter limits = RateLimiter.builder().mode(RateLimiter.Mode.FAIL).fleet(shared()).build();
             ConnectionPoolManager client = client(limits, mock)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> limits.stats().fleetAvailable());
            List<String> refusedFor = new ArrayList<>();
            int ok = 0;
            for (int i = 0; i < 60 && refusedFor.size() < 40; i++) {
                try {
                    assertThat(send(client, mock, 1, 80).get(0).get(30, TimeUnit.SECONDS).status()).isEqualTo(200);
                    ok++;
                } catch (java.util.concurrent.ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(io.sluice.http.RateLimitedException.class);
                    refusedFor.add(((io.sluice.http.RateLimitedException) e.getCause()).budget());
                }
            }
            assertThat(ok).as("about 1 000 / ~100 tokens admitted").isBetween(8, 12);
            assertThat(refusedFor).hasSize(40).containsOnly("tokens");
            assertThat(mock.stats().rateLimitRejected()).as("429s at the provider").isZero();
            assertThat(limits.stats().fleetFallbacks()).isZero();
        }
    }

    @Test
    void withoutTheFleetTwoProcessesOverrunTheSharedLimit() throws Exception {
        try (MockProvider mock = limitedMock(); RateLimiter a = RateLimiter.builder().build();
             RateLimiter b = RateLimiter.builder().build();
             ConnectionPoolManager clientA = client(a, mock); ConnectionPoolManager clientB = client(b, mock)) {
            statuses(send(clientA, mock, 1));
            statuses(send(clientB, mock, 1));
            List<CompletableFuture<HttpResponse>> burst = new ArrayList<>(send(clientA, mock, 20));
            burst.addAll(send(clientB, mock, 20));
            assertThat(statuses(burst)).as("each process spends the budget it saw: twice the budget").contains(429);
            assertThat(mock.stats().rateLimitRejected()).isPositive();
        }
    }

    @Test
    void redisStoppedMidRunFallsBackToTheLocalBudgetAndRecovers() throws Exception {
        try (MockProvider mock = limitedMock();
             RateLimiter limits = RateLimiter.builder().fleet(fleetAt(redisPort).timeout(Duration.ofMillis(100)).build()).build();
             ConnectionPoolManager client = client(limits, mock)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> limits.stats().fleetAvailable());
            assertThat(statuses(send(client, mock, 1))).containsOnly(200);
            assertThat(statuses(send(client, mock, 4))).containsOnly(200);
            assertThat(limits.stats().fleetAdmitted()).isEqualTo(4);

            redis.stop();
            assertThat(statuses(send(client, mock, 30))).as("Redis down: the local budget shapes").containsOnly(200);
            assertThat(mock.stats().rateLimitRejected()).as("no 429: the local budget still knew the limit").isZero();
            RateLimitStats down = limits.stats();
            assertThat(down.fleetFallbacks()).isPositive();
            assertThat(down.redisErrors()).isPositive();
            assertThat(down.fleetAvailable()).isFalse();
            assertThat(logged(Level.WARN)).as("one WARN for the outage").isEqualTo(1);

            redis = redisOn(redisPort);
            redis.start();
            await().atMost(Duration.ofSeconds(15)).until(() -> limits.stats().fleetAvailable());
            long before = limits.stats().fleetAdmitted();
            assertThat(statuses(send(client, mock, 5))).containsOnly(200);
            assertThat(limits.stats().fleetAdmitted() - before).as("the shared budget is back").isEqualTo(5);
            assertThat(logged(Level.INFO)).as("one INFO when Redis is back").isEqualTo(1);
            assertThat(logged(Level.WARN)).isEqualTo(1);
            assertThat(mock.stats().rateLimitRejected()).isZero();
        }
    }

    @Test
    void aRedisThatStopsAnsweringCostsAnAdmissionAtMostTheTimeout() throws Exception {
        try (MockProvider mock = limitedMock(); SilenceableProxy proxy = new SilenceableProxy(redisPort);
             RateLimiter limits = RateLimiter.builder().fleet(fleetAt(proxy.port()).timeout(Duration.ofMillis(100)).build()).build();
             ConnectionPoolManager client = client(limits, mock)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> limits.stats().fleetAvailable());
            assertThat(statuses(send(client, mock, 1))).containsOnly(200); // learns the budget
            assertThat(statuses(send(client, mock, 1))).containsOnly(200);
            assertThat(limits.stats().fleetAdmitted()).isEqualTo(1);

            proxy.silence(); // the connection stays open; nothing comes back
            for (int i = 0; i < 8; i++) {
                // each completes (statuses() bounds the wait: a hang fails); the first waits out the 100 ms timeout,
                // the rest go local at once (counted below, not timed)
                assertThat(statuses(send(client, mock, 1))).containsOnly(200);
            }
            RateLimitStats s = limits.stats();
            assertThat(s.fleetFallbacks()).isGreaterThanOrEqualTo(8);
            assertThat(s.fleetAvailable()).isFalse();
            assertThat(logged(Level.WARN)).isEqualTo(1);
        }
    }

    @Test
    void aRedisThatNeverAnswersNeverHoldsACall() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             MockProvider mock = limitedMock()) {
            List<Socket> accepted = new CopyOnWriteArrayList<>();
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        accepted.add(silent.accept()); // accept, read nothing, answer nothing
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            // build() does not wait for Redis: it returns (a hang would fail the bounded get) with a silent server
            RateLimiter limits = CompletableFuture.supplyAsync(() -> RateLimiter.builder()
                    .fleet(fleetAt(silent.getLocalPort()).build()).build()).get(20, TimeUnit.SECONDS);
            try (ConnectionPoolManager client = client(limits, mock)) {
                assertThat(statuses(send(client, mock, 1))).containsOnly(200);
                assertThat(statuses(send(client, mock, 10))).containsOnly(200);
                assertThat(limits.stats().fleetFallbacks()).isGreaterThanOrEqualTo(10);
                assertThat(limits.stats().fleetAdmitted()).isZero();
            } finally {
                CompletableFuture.runAsync(limits::close).get(20, TimeUnit.SECONDS); // close() returns: bounded, not timed
                for (Socket s : accepted) {
                    s.close();
                }
            }
        }
    }

    /** A TCP proxy to Redis that can go silent: the connection stays open, bytes are swallowed both ways. */
    static final class SilenceableProxy implements AutoCloseable {
        private final ServerSocket server;
        private final int upstream;
        private volatile boolean silent;
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();

        SilenceableProxy(int upstream) throws IOException {
            this.upstream = upstream;
            this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread t = new Thread(this::acceptLoop, "redis-proxy");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        void silence() {
            silent = true;
        }

        private void acceptLoop() {
            try {
                while (true) {
                    Socket in = server.accept();
                    Socket out = new Socket(InetAddress.getLoopbackAddress(), upstream);
                    sockets.add(in);
                    sockets.add(out);
                    pump(in, out);
                    pump(out, in);
                }
            } catch (IOException closed) {
                // closed
            }
        }

        private void pump(Socket from, Socket to) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[8192];
                try (InputStream i = from.getInputStream(); OutputStream o = to.getOutputStream()) {
                    int n;
                    while ((n = i.read(buf)) >= 0) {
                        if (!silent) {
                            o.write(buf, 0, n);
                            o.flush();
                        }
                    }
                } catch (IOException closed) {
                    // one side closed
                }
            }, "redis-proxy-pump");
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }
}

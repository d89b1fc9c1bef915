package io.sluice.cli.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.Http2Settings;
import io.sluice.http.Route;
import io.sluice.http.TlsStats;
import io.sluice.pool.Lease;
import io.sluice.pool.Pool;
import io.sluice.pool.PoolConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Phase 1, TLS handshakes through Sluice's own connect path, next to a bare Netty client measured the
 * same way in the same rounds.
 *
 * <p>What a sample is: the time {@link ConnectionPoolManager#tlsStats()} records for one new pooled
 * connection, opened by {@code pool.acquire()} (RouteConnectionManager.connect): from just before the
 * TCP connect (after the DNS look-up) until the TLS handshake completes on the event loop. The h2
 * preface and the peer's SETTINGS, which the pool also waits for, come after that and are not in it.
 * The connection is then closed so the next acquire opens a new one.
 * <ul>
 *   <li>full: one warm client; its TLS session cache is cleared before the sample
 *   ({@link ConnectionPoolManager#clearTlsSessions()}), so the handshake is full;</li>
 *   <li>resumed: the same client, the session cache kept.</li>
 * </ul>
 * Baseline: a bare Netty client (Sluice's event loop setup, the same {@link SslContext} settings and
 * trust, a plain {@link SslHandler}) timed from just before its TCP connect to its handshake's
 * completion, and closed once the server's first bytes arrived (by then the TLS 1.3 ticket has too).
 * Each round takes one sample of each of the four kinds, in turn, so both clients see the same load.
 * {@link #WARMUP_ROUNDS} rounds ({@link #QUICK_WARMUP_ROUNDS} under --quick) are run first and not counted
 * (JIT, both clients and the mock).
 * The mock runs in this JVM and shares its cores (see docs/benchmarks.md).
 *
 * <p><b>Thread-safety:</b> stateless between runs; one run at a time.
 */
public final class TlsPhase implements Phase {
    /** Rounds run before the samples, not counted: 4 handshakes each (Sluice and bare, full and resumed). */
    static final int WARMUP_ROUNDS = 100;
    static final int QUICK_WARMUP_ROUNDS = 50;

    @Override
    public String id() {
        return "tls_handshake";
    }

    @Override
    public PhaseResult run(BenchContext ctx) throws Exception {
        PhaseResult r = new PhaseResult(id(), "TLS handshakes (full and resumed)");
        URI base = ctx.target().https();
        if (base == null) {
            return r.skip("the target is not https");
        }
        BenchOptions o = ctx.options();
        LatencyStats full = new LatencyStats();
        LatencyStats resumed = new LatencyStats();
        LatencyStats bareFull = new LatencyStats();
        LatencyStats bareResumed = new LatencyStats();
        long errors = 0;
        long unexpected = 0;
        Route route = BenchTarget.ping(base).route();
        int rounds = Math.max(o.tlsFullSamples(), o.tlsResumedSamples());
        PoolConfig config = PoolConfig.builder().maxConnections(1).minIdle(0).build();
        try (ConnectionPoolManager client = ctx.target().client(config, Http2Settings.defaults(), 1);
             Bare bare = new Bare(ctx.target(), ctx.options().insecure(), route)) {
            Pool<?> pool = client.pool(route);
            int warmup = ctx.options().quick() ? QUICK_WARMUP_ROUNDS : WARMUP_ROUNDS;
            ctx.progress().start("tls: warm-up", warmup, null);
            for (int i = 0; i < warmup; i++) {
                sluice(client, pool, true);
                sluice(client, pool, false);
                bare.sample(true);
                bare.sample(false);
                ctx.progress().done(1);
            }
            ctx.progress().finish();
            ctx.progress().start("tls: full and resumed handshakes", rounds, null);
            for (int i = 0; i < rounds; i++) {
                boolean doFull = i < o.tlsFullSamples();
                boolean doResumed = i < o.tlsResumedSamples();
                long[] s = {doFull ? sluice(client, pool, true) : 0, doResumed ? sluice(client, pool, false) : 0,
                        doFull ? bare.sample(true) : 0, doResumed ? bare.sample(false) : 0};
                LatencyStats[] into = {full, resumed, bareFull, bareResumed};
                boolean failed = false;
                for (int k = 0; k < 4; k++) {
                    if (s[k] > 0) {
                        into[k].record(s[k]);
                    } else if (s[k] == FAILED) {
                        failed = true;
                    } else if (s[k] == WRONG_KIND) {
                        unexpected++;
                    }
                }
                if (failed) {
                    errors++;
                    ctx.progress().error();
                }
                ctx.progress().done(1);
            }
            ctx.progress().finish();
            r.metric("tls_provider", client.tlsProvider());
            r.metric("native_transport", client.nativeTransport());
        }
        r.metric("full", full.summaryMillis());
        r.metric("resumed", resumed.summaryMillis());
        r.metric("full_p50_ms", Num.ms(full.percentileNanos(50)));
        r.metric("full_p99_ms", Num.ms(full.percentileNanos(99)));
        r.metric("resumed_p50_ms", Num.ms(resumed.percentileNanos(50)));
        r.metric("resumed_p99_ms", Num.ms(resumed.percentileNanos(99)));
        r.metric("bare_netty_full_p50_ms", Num.ms(bareFull.percentileNanos(50)));
        r.metric("bare_netty_full_p99_ms", Num.ms(bareFull.percentileNanos(99)));
        r.metric("bare_netty_resumed_p50_ms", Num.ms(bareResumed.percentileNanos(50)));
        r.metric("bare_netty_resumed_p99_ms", Num.ms(bareResumed.percentileNanos(99)));
        r.metric("unexpected_handshake_kind", unexpected);
        r.latency("full handshake", full).latency("resumed handshake", resumed)
                .latency("bare Netty full", bareFull).latency("bare Netty resumed", bareResumed);
        r.note("A sample is TCP connect + TLS handshake of one new connection, on loopback, one at a time: Sluice's"
                + " as its client records it (ConnectionPoolManager.tlsStats(), pool.acquire()), next to a bare Netty"
                + " client timed the same way in the same rounds. One warm client each, " + (ctx.options().quick() ? QUICK_WARMUP_ROUNDS : WARMUP_ROUNDS)
                + " warm-up rounds; full samples clear the session cache first.");
        return r.errors(errors);
    }

    private static final long FAILED = -1;
    private static final long WRONG_KIND = -2;

    /** One new pooled connection; its recorded handshake time, or FAILED / WRONG_KIND. */
    private static long sluice(ConnectionPoolManager client, Pool<?> pool, boolean full)
            throws InterruptedException {
        if (full) {
            client.clearTlsSessions();
        }
        TlsStats before = client.tlsStats();
        Lease<?> lease;
        try {
            lease = pool.acquire().get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            return FAILED;
        }
        TlsStats after = client.tlsStats();
        lease.invalidate();
        closed(pool);
        if (full && after.fullHandshakes() - before.fullHandshakes() == 1) {
            return Math.max(1, after.fullNanosTotal() - before.fullNanosTotal());
        }
        if (!full && after.resumedHandshakes() - before.resumedHandshakes() == 1) {
            return Math.max(1, after.resumedNanosTotal() - before.resumedNanosTotal());
        }
        return WRONG_KIND;
    }

    /** Waits (up to 5 s) until the invalidated connection is gone, so the next acquire opens a new one. */
    private static void closed(Pool<?> pool) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (pool.stats().open() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(0, 100_000);
        }
    }

    /**
     * A bare Netty TLS client on one event loop, built from Netty's own parts (not Sluice's): the
     * same TLS engine Sluice picks (BoringSSL when available), TLS 1.3/1.2, ALPN h2 and http/1.1,
     * trusting the target's certificate. A full sample uses a fresh TLS context (an empty session
     * cache); a resumed one uses a context kept across samples. Each sample: connect, handshake,
     * first server bytes, close.
     */
    static final class Bare implements AutoCloseable {
        private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        private final BenchTarget target;
        private final boolean insecure;
        private final Route route;
        private SslContext resumable;

        Bare(BenchTarget target, boolean insecure, Route route) {
            this.target = target;
            this.insecure = insecure;
            this.route = route;
        }

        private SslContext newContext() throws javax.net.ssl.SSLException {
            SslContextBuilder b = SslContextBuilder.forClient()
                    .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
                    .protocols("TLSv1.3", "TLSv1.2")
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1));
            if (insecure) {
                b.trustManager(InsecureTrustManagerFactory.INSTANCE);
            } else if (target.certificatePem() != null) {
                b.trustManager(new java.io.ByteArrayInputStream(
                        target.certificatePem().getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
            }
            return b.build();
        }

        long sample(boolean full) throws InterruptedException {
            SslContext context;
            try {
                if (full) {
                    context = newContext();
                } else {
                    if (resumable == null) {
                        resumable = newContext();
                    }
                    context = resumable;
                }
            } catch (javax.net.ssl.SSLException e) {
                return FAILED;
            }
            try {
                return handshake(context, full);
            } finally {
                if (full) {
                    ReferenceCountUtil.release(context);
                }
            }
        }

        private long handshake(SslContext context, boolean full) throws InterruptedException {
            InetSocketAddress address;
            try {
                address = new InetSocketAddress(InetAddress.getByName(route.host()), route.port());
            } catch (java.net.UnknownHostException e) {
                return FAILED;
            }
            CountDownLatch firstRead = new CountDownLatch(1);
            CompletableFuture<Long> handshake = new CompletableFuture<>();
            long startMillis = System.currentTimeMillis();
            long t0 = System.nanoTime();
            ChannelFuture cf = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                    .handler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    SslHandler ssl = context.newHandler(ch.alloc(), route.host(), route.port());
                    ssl.handshakeFuture().addListener(f -> {
                        if (f.isSuccess()) {
                            handshake.complete(System.nanoTime() - t0);
                        } else {
                            handshake.completeExceptionally(f.cause());
                        }
                    });
                    ch.pipeline().addLast(ssl, new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext c, Object msg) {
                            ReferenceCountUtil.release(msg);
                            firstRead.countDown();
                        }
                    });
                }
            }).connect(address);
            Channel ch = cf.channel();
            try {
                long nanos = handshake.get(15, TimeUnit.SECONDS);
                firstRead.await(5, TimeUnit.SECONDS);
                boolean resumed = resumed(ch.pipeline().get(SslHandler.class).engine(), startMillis);
                return resumed != full ? Math.max(1, nanos) : WRONG_KIND;
            } catch (Exception e) {
                return FAILED;
            } finally {
                ch.close().await(5, TimeUnit.SECONDS);
            }
        }

        /** Whether the handshake resumed a session: the session is older than the attempt (millisecond clock). */
        private static boolean resumed(javax.net.ssl.SSLEngine engine, long startMillis) {
            javax.net.ssl.SSLSession s = engine.getSession();
            return s != null && s.getCreationTime() < startMillis;
        }

        @Override
        public void close() {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            if (resumable != null) {
                ReferenceCountUtil.release(resumable);
            }
        }
    }
}

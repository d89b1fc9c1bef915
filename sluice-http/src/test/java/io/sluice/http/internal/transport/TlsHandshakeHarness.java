package io.sluice.http.internal.transport;

import io.sluice.http.spi.NettyTransport;
import io.sluice.http.spi.SslContextFactory;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.Route;
import io.sluice.http.TlsOptions;
import io.sluice.http.TlsStats;
import io.sluice.pool.Lease;
import io.sluice.pool.Pool;
import io.sluice.pool.PoolConfig;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.io.ByteArrayInputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Not a test: a manual harness that compares a bare Netty TLS client with Sluice's connect path
 * against the mock provider, measured the same way. Run with the test classpath, e.g.
 * {@code java -cp <cp> io.sluice.http.internal.transport.TlsHandshakeHarness}. System properties:
 * <ul>
 *   <li>{@code client}: {@code bare-insecure}, {@code bare-pem} (only the mock's PEM),
 *   {@code bare-sluicectx} (Sluice's own SslContext: PEM + system roots, bare bootstrap), {@code sluice}
 *   (ConnectionPoolManager, pool acquire: RouteConnectionManager.connect);</li>
 *   <li>{@code provider}: OPENSSL (default) or JDK; {@code host}: localhost (default) or 127.0.0.1;</li>
 *   <li>{@code url} + {@code cert}: an external mock (https URL, PEM file); otherwise one in process;</li>
 *   <li>{@code warmup} (200), {@code samples} (300).</li>
 * </ul>
 * Each sample: t0 just before the look-up/connect, then TCP connected, handshake done, and for
 * {@code sluice} also the lease (after the h2 SETTINGS) and the client's own handshake time
 * ({@code tlsStats()}, TCP connect + TLS). Full samples clear the context's session cache first, so
 * the client stays warm; resumed samples keep it.
 */
public final class TlsHandshakeHarness {

    public static void main(String[] args) throws Exception {
        String client = System.getProperty("client", "sluice");
        TlsOptions.Provider provider = TlsOptions.Provider.valueOf(System.getProperty("provider", "OPENSSL"));
        String host = System.getProperty("host", "localhost");
        int warmup = Integer.getInteger("warmup", 200);
        int samples = Integer.getInteger("samples", 300);
        MockProvider mock = null;
        int port;
        String pem;
        if (System.getProperty("url") != null) {
            port = URI.create(System.getProperty("url")).getPort();
            pem = Files.readString(Path.of(System.getProperty("cert")), StandardCharsets.US_ASCII);
        } else {
            mock = MockProvider.start(MockOptions.builder().idleTimeout(Duration.ofMinutes(5)).build());
            port = mock.tlsPort();
            pem = mock.certificatePem();
        }
        TlsOptions tls = TlsOptions.builder().provider(provider).trustCertificatePem(pem).build();
        Route route = new Route("https", host, port);
        Route plain = mock == null ? null : new Route("http", host, mock.httpUri().getPort());
        Sampler sampler = client.equals("sluice") ? new SluiceSampler(tls, route)
                : client.equals("sluice-fresh") ? new FreshSluiceSampler(tls, route, plain)
                : new BareSampler(client, tls, pem, route);
        try {
            for (String kind : client.equals("sluice-fresh") ? new String[]{"full"} : new String[]{"full", "resumed"}) {
                boolean full = kind.equals("full");
                for (int i = 0; i < warmup; i++) {
                    sampler.sample(full);
                }
                long[][] s = new long[samples][];
                for (int i = 0; i < samples; i++) {
                    s[i] = sampler.sample(full);
                }
                report(client + " " + provider + " " + host + " " + kind, sampler.columns(), s);
            }
        } finally {
            sampler.close();
            if (mock != null) {
                mock.close();
            }
        }
    }

    private static void report(String title, String[] columns, long[][] s) {
        System.out.println("== " + title + " (n=" + s.length + ", ms: p50 p90 p99 mean)");
        for (int c = 0; c < columns.length; c++) {
            long[] v = new long[s.length];
            for (int i = 0; i < s.length; i++) {
                v[i] = s[i][c];
            }
            Arrays.sort(v);
            double mean = Arrays.stream(v).average().orElse(0);
            System.out.printf(Locale.ROOT, "  %-22s %7.3f %7.3f %7.3f %7.3f%n", columns[c], v[v.length / 2] / 1e6,
                    v[(int) (v.length * 0.90)] / 1e6, v[Math.min(v.length - 1, (int) Math.ceil(v.length * 0.99) - 1)] / 1e6,
                    mean / 1e6);
        }
    }

    interface Sampler extends AutoCloseable {
        String[] columns();

        long[] sample(boolean full) throws Exception;

        @Override
        void close();
    }

    /** A bare Netty client: one context, one event loop (Sluice's NettyTransport), TCP + TLS only. */
    static volatile boolean clientHelloPrinted;

    static final class BareSampler implements Sampler {
        private final NettyTransport transport = new NettyTransport(1, true, Duration.ofSeconds(10));
        private final SslContext ctx;
        private final Route route;

        BareSampler(String kind, TlsOptions tls, String pem, Route route) throws Exception {
            this.route = route;
            SslProvider p = SslContextFactory.resolve(tls.provider());
            ApplicationProtocolConfig alpn = new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                    ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);
            this.ctx = switch (kind) {
                case "bare-insecure" -> SslContextBuilder.forClient().sslProvider(p).applicationProtocolConfig(alpn)
                        .trustManager(InsecureTrustManagerFactory.INSTANCE).build();
                case "bare-pem" -> withGroups(SslContextBuilder.forClient()).sslProvider(p).applicationProtocolConfig(alpn)
                        .endpointIdentificationAlgorithm("HTTPS")
                        .trustManager((X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                                new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))).build();
                case "bare-sluicectx" -> SslContextFactory.build(tls);
                default -> throw new IllegalArgumentException(kind);
            };
        }

        private static SslContextBuilder withGroups(SslContextBuilder b) {
            String g = System.getProperty("groups");
            return g == null ? b : b.option(io.netty.handler.ssl.OpenSslContextOption.GROUPS, g.split(","));
        }

        @Override
        public String[] columns() {
            return new String[]{"dns", "tcp (from t0)", "tls (from tcp)", "tcp+tls (from dns)", "first read (from t0)"};
        }

        @Override
        public long[] sample(boolean full) throws Exception {
            if (full) {
                SslContextFactory.clearSessions(ctx);
            }
            long t0 = System.nanoTime();
            InetSocketAddress address = new InetSocketAddress(InetAddress.getByName(route.host()), route.port());
            long tDns = System.nanoTime();
            long[] tTcp = {0};
            long[] tRead = {0};
            java.util.concurrent.CountDownLatch firstRead = new java.util.concurrent.CountDownLatch(1);
            ChannelFuture cf = transport.bootstrap().handler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(new io.netty.channel.ChannelOutboundHandlerAdapter() {
                        @Override
                        public void write(io.netty.channel.ChannelHandlerContext c, Object msg,
                                          io.netty.channel.ChannelPromise promise) {
                            if (!clientHelloPrinted && msg instanceof io.netty.buffer.ByteBuf b) {
                                clientHelloPrinted = true; // record type, version, length of the first record
                                System.out.println("  first client record: " + b.readableBytes() + " bytes");
                            }
                            c.write(msg, promise);
                        }
                    });
                    ch.pipeline().addLast(ctx.newHandler(ch.alloc(), route.host(), route.port()));
                    ch.pipeline().addLast(new io.netty.channel.ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(io.netty.channel.ChannelHandlerContext c, Object msg) {
                            io.netty.util.ReferenceCountUtil.release(msg);
                            if (tRead[0] == 0) {
                                tRead[0] = System.nanoTime();
                                firstRead.countDown();
                            }
                        }
                    });
                }
            }).connect(address);
            cf.addListener(f -> tTcp[0] = System.nanoTime());
            Channel ch = cf.sync().channel();
            SslHandler ssl = ch.pipeline().get(SslHandler.class);
            ssl.handshakeFuture().sync();
            long tHs = System.nanoTime();
            boolean resumed = HandshakeRecorder.isResumed(ssl.engine(), 0);
            // the server's first bytes (h2 SETTINGS): by then the TLS 1.3 session ticket has arrived too
            firstRead.await(5, TimeUnit.SECONDS);
            ch.close().sync();
            if (resumed == full && SslContextFactory.resolve(TlsOptions.Provider.AUTO) == SslProvider.OPENSSL) {
                System.err.println("unexpected " + (resumed ? "resumed" : "full") + " handshake");
            }
            return new long[]{tDns - t0, tTcp[0] - tDns, tHs - tTcp[0], tHs - tDns, tRead[0] - t0};
        }

        @Override
        public void close() {
            transport.close();
            io.netty.util.ReferenceCountUtil.release(ctx);
        }
    }

    /** Sluice's path: pool acquire → RouteConnectionManager.connect (DNS, TCP, TLS, h2 SETTINGS). */
    static final class SluiceSampler implements Sampler {
        private final ConnectionPoolManager client;
        private final Pool<HttpConnection> pool;

        @SuppressWarnings("unchecked") // the client's pools hold its HttpConnections; the API hides the type
        SluiceSampler(TlsOptions tls, Route route) throws Exception {
            client = ConnectionPoolManager.builder().tls(tls).ioThreads(1)
                    .poolConfig(PoolConfig.builder().maxConnections(1).minIdle(0).build()).build();
            pool = (Pool<HttpConnection>) client.pool(route);
        }

        @Override
        public String[] columns() {
            return new String[]{"acquire (from t0)", "tlsStats (tcp+tls)"};
        }

        @Override
        public long[] sample(boolean full) throws Exception {
            if (full) {
                client.clearTlsSessions();
            }
            TlsStats before = client.tlsStats();
            long t0 = System.nanoTime();
            Lease<HttpConnection> lease = pool.acquire().get(10, TimeUnit.SECONDS);
            long t1 = System.nanoTime();
            TlsStats after = client.tlsStats();
            lease.invalidate();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (pool.stats().open() > 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            long hs = (after.fullNanosTotal() + after.resumedNanosTotal())
                    - (before.fullNanosTotal() + before.resumedNanosTotal());
            boolean resumed = after.resumedHandshakes() > before.resumedHandshakes();
            if (resumed == full) {
                System.err.println("unexpected " + (resumed ? "resumed" : "full") + " handshake");
            }
            return new long[]{t1 - t0, hs};
        }

        @Override
        public void close() {
            client.close();
        }
    }

    /** What TlsPhase did: a new client per full-handshake sample (new SslContext, trust manager, event loop). */
    static final class FreshSluiceSampler implements Sampler {
        private final TlsOptions tls;
        private final Route route;
        private final Route plain;

        FreshSluiceSampler(TlsOptions tls, Route route, Route plain) {
            this.tls = tls;
            this.route = route;
            this.plain = plain;
        }

        @Override
        public String[] columns() {
            return new String[]{"build client", "acquire (from t0)", "tlsStats (tcp+tls)"};
        }

        @Override
        public long[] sample(boolean full) throws Exception {
            long tb = System.nanoTime();
            try (ConnectionPoolManager client = ConnectionPoolManager.builder().tls(tls).ioThreads(1)
                    .poolConfig(PoolConfig.builder().maxConnections(1).minIdle(0).build()).build()) {
                long tBuilt = System.nanoTime();
                if (plain != null) { // start the event loop first, as TlsPhase does with a cleartext request
                    client.pool(plain).acquire().get(10, TimeUnit.SECONDS).invalidate();
                }
                long t0 = System.nanoTime();
                client.pool(route).acquire().get(10, TimeUnit.SECONDS).invalidate();
                long t1 = System.nanoTime();
                return new long[]{tBuilt - tb, t1 - t0, client.tlsStats().fullNanosTotal()};
            }
        }

        @Override
        public void close() {
        }
    }

    private TlsHandshakeHarness() {
    }
}

package io.sluice.bench.compare;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.TlsOptions;
import io.sluice.pool.PoolConfig;
import java.time.Duration;

/**
 * Sluice's {@link ConnectionPoolManager} with its defaults (the seed's): pool maxConnections 100,
 * minIdle 10, HTTP/2 by ALPN with up to min(peer limit, 100) streams per connection, BoringSSL
 * when netty-tcnative loads, epoll, Netty's default event loop count, futures completed on the
 * common pool. The only change is trusting the mock's certificate
 * (or the {@code --cacert} file).
 *
 * <p>Memory mode: maxConnections = the target count, minIdle 0, idle timeout and lifetime long
 * enough to outlast the run, and acquire/headers timeouts of 120 s because thousands of
 * handshakes queue up behind each other. The mock announces one stream per connection, so every
 * in-flight request needs its own HTTP/2 connection.
 */
final class SluicePeer implements Peer {
    private final ConnectionPoolManager client;
    private final PeerConfig cfg;

    SluicePeer(PeerConfig cfg) {
        this(cfg, false);
    }

    /**
     * @param preloadTcnative load netty-tcnative ({@code OpenSsl.isAvailable()}) before building the
     *                        client. A diagnostic variant ("sluice-tcnative-preloaded"): in a fresh
     *                        JVM, building a {@code ConnectionPoolManager} first initialises
     *                        {@code ReferenceCountedOpenSslEngine} (through {@code HandshakeRecorder})
     *                        before the native library is loaded, the tcnative classes fail to
     *                        initialise, and Sluice silently falls back to the JDK's TLS engine. This
     *                        variant shows what Sluice does once that is fixed.
     */
    SluicePeer(PeerConfig cfg, boolean preloadTcnative) {
        this(cfg, preloadTcnative, null, null);
    }

    /**
     * "sluice-spread", "sluice-target", "sluice-spread-target": the defaults but for where new streams go
     * ({@link PoolConfig#streamPlacement()}, {@link PoolConfig#targetStreamsPerConnection()}).
     */
    SluicePeer(PeerConfig cfg, java.util.function.UnaryOperator<PoolConfig.Builder> poolTuning) {
        this(cfg, false, null, poolTuning);
    }

    SluicePeer(PeerConfig cfg, boolean preloadTcnative, java.util.concurrent.Executor callbacks) {
        this(cfg, preloadTcnative, callbacks, null);
    }

    /**
     * @param callbacks the client's callback executor, null for its default. {@code Runnable::run}
     *                  ("sluice-inline-callbacks", a diagnostic variant) completes every future on the
     *                  event loop, as Reactor Netty does: the cost of the hand-off to the callback
     *                  threads is the difference to the default.
     */
    private SluicePeer(PeerConfig cfg, boolean preloadTcnative, java.util.concurrent.Executor callbacks,
                       java.util.function.UnaryOperator<PoolConfig.Builder> poolTuning) {
        this.cfg = cfg;
        if (preloadTcnative) {
            io.netty.handler.ssl.OpenSsl.isAvailable();
        }
        ConnectionPoolManager.Builder b = ConnectionPoolManager.builder();
        if (callbacks != null) {
            b.callbackExecutor(callbacks);
        }
        if (poolTuning != null) {
            b.poolConfig(poolTuning.apply(PoolConfig.defaults().toBuilder()).build());
        }
        if (cfg.certPem() != null) {
            b.tls(TlsOptions.builder().trustCertificatePem(cfg.certPem()).build());
        }
        if (cfg.memoryMode()) {
            b.poolConfig(PoolConfig.builder()
                            .maxConnections(cfg.connections())
                            .minIdle(0)
                            .maxPending(Math.max(PoolConfig.DEFAULT_MAX_PENDING, cfg.connections() * 2))
                            .idleTimeout(Duration.ofMinutes(30))
                            .maxLifetime(Duration.ofMinutes(60))
                            .connectionTimeout(Duration.ofSeconds(120))
                            .build())
                    .requestTimeout(Duration.ofSeconds(120));
        }
        this.client = b.build();
    }

    @Override
    public void send(long delayMs, Done done) {
        HttpRequest.Builder rb = HttpRequest.newBuilder(cfg.target())
                .POST(Workload.BODY)
                .header("content-type", Workload.CONTENT_TYPE)
                .header("authorization", Workload.AUTHORIZATION);
        if (delayMs > 0) {
            rb.header(Workload.DELAY_HEADER, Long.toString(delayMs));
        }
        client.send(rb.build()).whenComplete((resp, err) -> {
            if (err != null) {
                done.complete(0, 0, err);
            } else {
                done.complete(resp.status(), resp.bodyLength(), null);
            }
        });
    }

    @Override
    public String protocol() {
        return "h2";
    }

    @Override
    public String describe() {
        return "ConnectionPoolManager defaults (maxConnections 100, minIdle 10, h2 <=100 streams/conn, "
                + client.tlsProvider() + ", " + (client.nativeTransport() ? "epoll" : "nio") + ")";
    }

    @Override
    public void close() {
        client.close();
    }
}

package io.sluice.spring.boot;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.Http2Settings;
import io.sluice.http.ProxyOptions;
import io.sluice.http.Timeouts;
import io.sluice.http.TlsOptions;
import io.sluice.http.retry.StatusRetryPolicy;
import io.sluice.pool.PoolConfig;
import java.time.Duration;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;

/** Turns {@link SluiceProperties} into a manager builder. Stateless. */
final class SluiceManagers {

    private SluiceManagers() {
    }

    /** A builder holding every property; {@code bundles} may be null when no bundle is named. */
    static ConnectionPoolManager.Builder builder(SluiceProperties p, SslBundles bundles) {
        SluiceProperties.Pool pool = p.getPool();
        PoolConfig config = PoolConfig.builder()
                .maxConnections(pool.getMaxConnections())
                .minIdle(pool.getMinIdle())
                .maxLifetime(pool.getMaxLifetime())
                .idleTimeout(pool.getIdleTimeout())
                .connectionTimeout(pool.getConnectionTimeout())
                .maxPending(pool.getMaxPending())
                .build();
        SluiceProperties.Timeouts t = p.getTimeouts();
        Duration connect = t.getConnect() != null ? t.getConnect() : pool.getConnectionTimeout();
        SluiceProperties.Http2 h2 = p.getHttp2();
        ConnectionPoolManager.Builder b = ConnectionPoolManager.builder()
                .poolConfig(config)
                .timeouts(new Timeouts(connect, t.getHeaders(), t.getBodyIdle(), t.getTotal()))
                .http2(new Http2Settings(h2.getInitialStreamWindow(), h2.getConnectionWindow(), h2.isAdaptiveWindow(),
                        h2.getMaxWindow(), h2.getMaxConcurrentStreams(), h2.getPingInterval(), h2.getPingTimeout()))
                .h2cPriorKnowledge(p.isH2cPriorKnowledge())
                .http1Only(p.isHttp1Only())
                .decompressResponses(p.isDecompressResponses())
                .ioThreads(p.getIoThreads());
        SluiceProperties.Retries r = p.getRetries();
        b.statusRetryPolicy(r.isEnabled()
                ? StatusRetryPolicy.builder().maxRetries(r.getMaxRetries())
                        .backoff(r.getInitialBackoff(), r.getMaxBackoff()).build()
                : StatusRetryPolicy.disabled());
        ProxyOptions proxy = proxy(p.getProxy());
        if (proxy != null) {
            b.proxy(proxy);
        }
        String bundle = p.getTls().getBundle();
        if (bundle != null && !bundle.isBlank()) {
            if (bundles == null) {
                throw new IllegalStateException("sluice.tls.bundle is '" + bundle + "' but there are no SSL bundles");
            }
            b.tls(tls(bundles.getBundle(bundle)));
        }
        if (p.getTls().getReloadInterval() != null) {
            b.tlsReloadInterval(p.getTls().getReloadInterval());
        }
        return b;
    }

    /** The proxy the properties name, the environment's when asked for, or null. */
    static ProxyOptions proxy(SluiceProperties.Proxy p) {
        if (p.getHost() != null && !p.getHost().isBlank()) {
            return new ProxyOptions(p.getType(), p.getHost(), p.getPort(), p.getUsername(), p.getPassword(),
                    p.getNoProxy());
        }
        return p.isFromEnvironment() ? ProxyOptions.fromEnvironment() : null;
    }

    /**
     * An SSL bundle's trust and key material as Sluice's TLS options. The bundle's factories are used as they are:
     * its trust manager replaces the system roots (as spring.ssl does for every other client), and its key
     * manager presents the client certificate when the bundle has a key store.
     */
    static TlsOptions tls(SslBundle bundle) {
        TlsOptions.Builder t = TlsOptions.builder().trustManagerFactory(bundle.getManagers().getTrustManagerFactory());
        if (bundle.getStores() != null && bundle.getStores().getKeyStore() != null) {
            t.keyManagerFactory(bundle.getManagers().getKeyManagerFactory());
        }
        return t.build();
    }
}

package io.sluice.langchain4j;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.Timeouts;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Process-wide resources for LangChain4j clients that were not given a pool manager (the
 * {@code ServiceLoader} path: LangChain4j builds HTTP clients itself and never closes them).
 *
 * <p>Such clients share one {@link ConnectionPoolManager} per connect timeout (Sluice bounds
 * connects per manager, not per request), created on first use with status retries off, because
 * LangChain4j's models retry on their own. They live until the JVM exits (daemon threads).
 * SSE bodies are parsed on a shared pool of daemon threads, since LangChain4j's parsers block on an
 * {@code InputStream} and must not hold the callback executor's threads for a minutes-long stream.
 *
 * <p><b>Thread-safety:</b> thread-safe.
 */
public final class SluiceLangChain4j {

    private static final Duration DEFAULT_KEY = Duration.ZERO;
    /** Shared managers by connect timeout and TLS options (null: the defaults). */
    private static final ConcurrentHashMap<java.util.List<Object>, ConnectionPoolManager> SHARED = new ConcurrentHashMap<>();
    private static final ExecutorService SSE_READERS = Executors.newCachedThreadPool(daemons());

    private SluiceLangChain4j() {
    }

    /**
     * A manager builder for LangChain4j clients: Sluice's status retries off (LangChain4j's models
     * retry 429/5xx themselves), transport retries on.
     */
    public static ConnectionPoolManager.Builder poolManagerBuilder() {
        return ConnectionPoolManager.builder().statusRetries(false);
    }

    /** The shared manager for clients given no manager: one per connect timeout, null for the default (10 s). */
    static ConnectionPoolManager sharedPoolManager(Duration connectTimeout) {
        return sharedPoolManager(connectTimeout, null);
    }

    /** The shared manager for these settings; {@code tls} null means the default TLS settings. */
    static ConnectionPoolManager sharedPoolManager(Duration connectTimeout, io.sluice.http.TlsOptions tls) {
        Duration timeout = connectTimeout == null ? DEFAULT_KEY : connectTimeout;
        return SHARED.computeIfAbsent(java.util.Arrays.asList(timeout, tls), k -> {
            Duration c = timeout;
            ConnectionPoolManager.Builder b = poolManagerBuilder();
            if (tls != null) {
                b.tls(tls);
            }
            if (!c.isZero()) {
                Timeouts d = Timeouts.defaults();
                b.timeouts(new Timeouts(c, d.headers(), d.bodyIdle(), d.total()));
            }
            return b.build();
        });
    }

    static ExecutorService sseReaders() {
        return SSE_READERS;
    }

    private static ThreadFactory daemons() {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "sluice-langchain4j-sse-" + n.incrementAndGet());
            t.setDaemon(true); // LangChain4j clients are never closed: these threads must not keep the JVM up
            return t;
        };
    }
}

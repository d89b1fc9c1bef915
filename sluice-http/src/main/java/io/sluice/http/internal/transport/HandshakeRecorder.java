package io.sluice.http.internal.transport;

import io.sluice.http.TlsStats;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;

/**
 * Counts TLS handshakes, full and resumed, with their total durations.
 *
 * <p>Whether a handshake resumed a session: with BoringSSL, netty's
 * {@code ReferenceCountedOpenSslEngine.isSessionReused()} ({@code SSL_session_reused});
 * it is package-private in Netty 4.2, so it is looked up once by reflection and, if that
 * fails, the JDK rule is used. With the JDK engine a resumed session keeps the creation
 * time of the session it resumes, which is older than the handshake's start.
 *
 * <p><b>Thread-safety:</b> thread-safe (adders).
 */
public final class HandshakeRecorder {

    private static final MethodHandle OPENSSL_REUSED = findReused();

    private final LongAdder full = new LongAdder();
    private final LongAdder resumed = new LongAdder();
    private final LongAdder fullNanos = new LongAdder();
    private final LongAdder resumedNanos = new LongAdder();
    private final LongAdder failed = new LongAdder();

    /** Records a finished handshake that started at {@code startMillis} (wall clock) and took {@code nanos}. */
    boolean record(SSLEngine engine, long startMillis, long nanos) {
        boolean r = isResumed(engine, startMillis);
        if (r) {
            resumed.increment();
            resumedNanos.add(nanos);
        } else {
            full.increment();
            fullNanos.add(nanos);
        }
        return r;
    }

    void recordFailure() {
        failed.increment();
    }

    /** A snapshot of the counters. */
    public TlsStats snapshot() {
        return new TlsStats(full.sum(), resumed.sum(), failed.sum(), fullNanos.sum(), resumedNanos.sum());
    }

    /** Whether the engine's finished handshake, begun at {@code startMillis} (wall clock), resumed a session. */
    public static boolean isResumed(SSLEngine engine, long startMillis) {
        if (OPENSSL_REUSED != null && OPENSSL_REUSED.type().parameterType(0).isInstance(engine)) {
            try {
                return (boolean) OPENSSL_REUSED.invoke(engine);
            } catch (Throwable ignored) {
                // fall through to the session-age rule
            }
        }
        SSLSession s = engine.getSession();
        // creation time has millisecond resolution; a session created before this handshake began was resumed
        return s != null && s.getCreationTime() < startMillis;
    }

    private static MethodHandle findReused() {
        // Load the native library through OpenSsl first: touching an OpenSSL engine class before
        // it does makes tcnative's SSL class fail to initialise, and OpenSsl.isAvailable() then
        // reports false for the whole JVM, which silently put every client on the JDK engine.
        if (!io.netty.handler.ssl.OpenSsl.isAvailable()) {
            return null;
        }
        try {
            Class<?> c = Class.forName("io.netty.handler.ssl.ReferenceCountedOpenSslEngine");
            Method m = c.getDeclaredMethod("isSessionReused");
            m.setAccessible(true);
            return MethodHandles.lookup().unreflect(m).asType(MethodType.methodType(boolean.class, c));
        } catch (Throwable t) { // module boundaries, renamed method: degrade to the session-age rule
            return null;
        }
    }
}

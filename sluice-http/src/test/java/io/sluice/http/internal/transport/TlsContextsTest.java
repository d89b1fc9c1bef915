package io.sluice.http.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ReferenceCounted;
import io.sluice.http.ClientClosedException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The client's replaceable TLS context with BoringSSL, whose contexts are reference counted and fail once
 * released: a connect that took a context keeps it usable for as long as it runs, however long that is
 * (no grace period to outlast), a replaced context is released exactly when its last connect ends, and a
 * closed client says so with {@link ClientClosedException}.
 */
@Timeout(30)
class TlsContextsTest {

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final List<SslContext> built = new CopyOnWriteArrayList<>();

    @BeforeEach
    void needsBoringSsl() {
        assumeTrue(OpenSsl.isAvailable(), "netty-tcnative (reference-counted contexts) is not available here");
    }

    @AfterEach
    void stopScheduler() {
        scheduler.shutdownNow();
    }

    private TlsContexts contexts() {
        return new TlsContexts(() -> {
            try {
                SslContext c = SslContextBuilder.forClient().sslProvider(SslProvider.OPENSSL).build();
                built.add(c);
                return c;
            } catch (SSLException e) {
                throw new IllegalArgumentException(e);
            }
        });
    }

    /** Lets every release the contexts scheduled so far run (FIFO on the one scheduler thread). */
    private void letScheduledReleasesRun() throws Exception {
        scheduler.submit(() -> { }).get();
    }

    private static int refCnt(SslContext c) {
        return ((ReferenceCounted) c).refCnt();
    }

    @Test
    void aConnectThatTookTheContextBeforeAReloadMakesItsEngineHoweverLongItTakes() throws Exception {
        TlsContexts tls = contexts();
        TlsContexts.Ref connect = tls.acquire();
        SslContext old = connect.context();
        tls.reload(); // new connects use the new context from now on
        assertThat(tls.acquire().context()).isNotSameAs(old);
        letScheduledReleasesRun(); // the connect is stalled past any grace period
        assertThat(refCnt(old)).as("the context a connect in progress took, after a reload").isPositive();
        SSLEngine engine = connect.context().newEngine(ByteBufAllocator.DEFAULT, "localhost", 443);
        connect.release(); // the connect ended; its engine holds a reference of its own
        assertThat(refCnt(old)).as("held by the engine only").isPositive();
        ReferenceCountUtil.release(engine);
        assertThat(refCnt(old)).as("released once the last connect (and its engine) let go").isZero();
        tls.close();
    }

    @Test
    void aReplacedContextNoConnectTookIsReleasedAtTheReload() throws Exception {
        TlsContexts tls = contexts();
        SslContext first = tls.current();
        tls.reload();
        letScheduledReleasesRun();
        assertThat(refCnt(first)).isZero();
        SslContext second = tls.current();
        tls.close();
        assertThat(refCnt(second)).as("the current one, at close").isZero();
    }

    @Test
    void aConnectInFlightWhenTheClientClosesKeepsItsContextUntilItEnds() throws Exception {
        TlsContexts tls = contexts();
        TlsContexts.Ref connect = tls.acquire();
        tls.close();
        letScheduledReleasesRun();
        SSLEngine engine = connect.context().newEngine(ByteBufAllocator.DEFAULT, "localhost", 443);
        ReferenceCountUtil.release(engine);
        connect.release();
        connect.release(); // a second release is ignored
        assertThat(refCnt(connect.context())).isZero();
    }

    @Test
    void aReloadOrAConnectAfterCloseIsClientClosed() {
        TlsContexts tls = contexts();
        tls.close();
        assertThatThrownBy(tls::reload).isInstanceOf(ClientClosedException.class);
        assertThatThrownBy(tls::acquire).isInstanceOf(ClientClosedException.class);
    }
}

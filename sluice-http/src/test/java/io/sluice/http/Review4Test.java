package io.sluice.http;

import static io.sluice.http.HttpTestSupport.testPool;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCounted;
import io.netty.util.concurrent.SingleThreadEventExecutor;
import io.sluice.http.internal.transport.TlsContexts;
import io.sluice.testkit.MockProvider;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/** Review of 9c1bba9 (TLS rotation) and 2eb5b4e (SluiceResources): each test fails because of a defect. */
@Timeout(60)
class Review4Test {
    @RegisterExtension
    static final MockProviderExtension MOCK = MockProviderExtension.withOptions(io.sluice.testkit.MockOptions.builder().build());
    @InjectMock
    static MockProvider mock;

    /**
     * A client on shared resources releases its TLS context in close() at once, while a connect of its own
     * that passed the dial's "not abandoned" check still has its channel registration queued on the shared
     * event loop (which keeps running after the client's close). The ChannelInitializer then builds an
     * SslHandler from the released OpenSSL context. With owned resources the loop is shut down first, so this
     * cannot happen; with shared ones it can (a busy shared loop widens the window; here it is held).
     */
    @Test
    void closeOnSharedResourcesReleasesTheContextUnderAConnectStillOpeningItsChannel() throws Exception {
        Assumptions.assumeTrue(OpenSsl.isAvailable(), "OpenSSL contexts are the reference-counted ones");
        Logger initLog = (Logger) LoggerFactory.getLogger(io.netty.channel.ChannelInitializer.class);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        initLog.addAppender(log);
        try (SluiceResources shared = SluiceResources.builder().ioThreads(1).build()) {
            ConnectionPoolManager client = ConnectionPoolManager.builder().poolConfig(testPool().build())
                    .tls(TlsOptions.builder().provider(TlsOptions.Provider.OPENSSL)
                            .trustCertificatePem(mock.certificatePem()).build())
                    .resources(shared).build();
            SslContext context = currentContext(client);
            EventLoop loop = shared.transport.group().next();
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch go = new CountDownLatch(1);
            loop.execute(() -> {
                held.countDown();
                try {
                    go.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertThat(held.await(5, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<HttpResponse> f = client.send(HttpRequest.newBuilder(mock.httpsUri().resolve("/ping")).build());
            // the connect is under way: its channel's registration waits behind the held task
            await().atMost(Duration.ofSeconds(5)).until(() -> ((SingleThreadEventExecutor) loop).pendingTasks() > 0);
            client.close();
            assertThat(((ReferenceCounted) context).refCnt()).as("close released the context").isZero();
            go.countDown();
            loop.submit(() -> { }).sync();
            loop.submit(() -> { }).sync();
            assertThat(f).failsWithin(Duration.ofSeconds(5));
            assertThat(log.list).as("no SslHandler is made from a released context")
                    .noneMatch(e -> e.getFormattedMessage().contains("Failed to initialize a channel"));
        } finally {
            initLog.detachAppender(log);
        }
    }

    /**
     * Look-ups on the bounded, shared DNS pool are not dropped when their connect is abandoned (timed out,
     * or its client closed): a closed client's queued look-ups still run, one slow resolution after another,
     * and another client on the same resources times out "resolving the host name" behind them.
     */
    @Test
    void aClosedClientsAbandonedLookupsDelayAnotherClientsConnects() throws Exception {
        try (SluiceResources shared = SluiceResources.builder().build()) { // 4 DNS threads
            AddressResolver slowDns = host -> {
                try {
                    Thread.sleep(2_000); // a DNS server that does not answer: each look-up waits out its timeout
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return List.of(InetAddress.getLoopbackAddress());
            };
            ConnectionPoolManager a = ConnectionPoolManager.builder().poolConfig(testPool().build())
                    .timeouts(new Timeouts(Duration.ofMillis(500), Duration.ofSeconds(5), Duration.ofSeconds(5), null))
                    .resolver(slowDns).resources(shared).build();
            List<CompletableFuture<HttpResponse>> doomed = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                URI u = URI.create("http://slow-" + i + ".test:" + mock.httpUri().getPort() + "/ping");
                doomed.add(a.send(HttpRequest.newBuilder(u).build()));
            }
            for (CompletableFuture<HttpResponse> d : doomed) {
                assertThat(d).failsWithin(Duration.ofSeconds(5));
            }
            a.close(); // all of a's connects have ended; it is closed

            ConnectionPoolManager b = ConnectionPoolManager.builder().poolConfig(testPool().build())
                    .timeouts(new Timeouts(Duration.ofSeconds(3), Duration.ofSeconds(5), Duration.ofSeconds(5), null))
                    .resolver(AddressResolver.staticHosts(java.util.Map.of("fast.test",
                            List.of(InetAddress.getLoopbackAddress())), AddressResolver.system()))
                    .resources(shared).build();
            try {
                URI u = URI.create("http://fast.test:" + mock.httpUri().getPort() + "/ping");
                HttpResponse r = b.sendBlocking(HttpRequest.newBuilder(u).build());
                assertThat(r.status()).isEqualTo(200);
            } finally {
                b.close();
            }
        }
    }

    /**
     * tlsReloadInterval accepts any positive duration, but one under a millisecond truncates to 0 ms and
     * build() throws a bare IllegalArgumentException from ScheduledThreadPoolExecutor, after the TLS context
     * and the client's own SluiceResources (event loops: epoll/eventfd/timerfd descriptors) were made; the
     * constructor's clean-up covers only a failing TLS context, so both leak.
     */
    @Test
    void aSubMillisecondReloadIntervalIsRefusedByTheBuilderOrWorks() throws Exception {
        // warm up class loading and the native transport once, so the count below compares like with like
        ConnectionPoolManager.builder().build().close();
        long before = openFds();
        Throwable refused = null;
        try {
            ConnectionPoolManager.builder().tlsReloadInterval(Duration.ofNanos(500_000)).build().close();
        } catch (IllegalArgumentException e) {
            refused = e;
        }
        long after = openFds();
        assertThat(after).as("descriptors left open by the failed build (before " + before + ")").isLessThanOrEqualTo(before);
        if (refused != null) {
            assertThat(refused).as("refused, and saying why").hasMessageContaining("tlsReloadInterval");
        }
    }

    private static long openFds() throws java.io.IOException {
        try (java.util.stream.Stream<java.nio.file.Path> s = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    /**
     * A client on shared resources leaves its tasks in the shared timer after close(): a call waiting out a
     * status retry's delay (up to the 60 s Retry-After cap) is failed by close(), but its scheduled attempt is
     * not cancelled and holds the call (request, body, callbacks) until the delay ends; a reload's delayed
     * release stays for 2 x connect timeout + 1 s. With owned resources shutdownNow() dropped them.
     */
    @Test
    void aClosedClientLeavesNoTasksInTheSharedTimer() throws Exception {
        try (SluiceResources shared = SluiceResources.builder().build()) {
            ConnectionPoolManager client = HttpTestSupport.clientFor(mock).resources(shared).build();
            CompletableFuture<HttpResponse> waiting = client.send(HttpRequest.newBuilder(mock.httpsUri().resolve("/ping"))
                    .header("x-mock-status", "503").header("x-mock-retry-after-ms", "30000").build());
            await().atMost(Duration.ofSeconds(5)).until(() -> shared.scheduler.getQueue().stream()
                    .anyMatch(t -> ((java.util.concurrent.ScheduledFuture<?>) t).getDelay(TimeUnit.SECONDS) > 20));
            client.reloadTls();
            client.close();
            assertThat(waiting).failsWithin(Duration.ofSeconds(5));
            Thread.sleep(500);
            assertThat(shared.scheduler.getQueue()).as("tasks of the closed client still in the shared timer, delays (ms): "
                    + shared.scheduler.getQueue().stream().map(t -> ((java.util.concurrent.ScheduledFuture<?>) t)
                    .getDelay(TimeUnit.MILLISECONDS)).toList()).isEmpty();
        }
    }

    /**
     * The retire grace (2 x connect timeout + 1 s) is a guess, not a guarantee: initChannel (where the
     * SslHandler is made) runs when the channel registers on its event loop, whether or not the dial has been
     * abandoned in between. A loop stalled past the grace (GC pause, a blocking handler of another client on
     * shared loops) makes an engine from a context the reload already released.
     */
    @Test
    void aConnectQueuedBehindAStalledLoopUsesTheContextAReloadReleased() throws Exception {
        Assumptions.assumeTrue(OpenSsl.isAvailable(), "OpenSSL contexts are the reference-counted ones");
        Logger initLog = (Logger) LoggerFactory.getLogger(io.netty.channel.ChannelInitializer.class);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        initLog.addAppender(log);
        try (SluiceResources shared = SluiceResources.builder().ioThreads(1).build();
             ConnectionPoolManager client = ConnectionPoolManager.builder().poolConfig(testPool().build())
                     .timeouts(new Timeouts(Duration.ofMillis(300), Duration.ofSeconds(5), Duration.ofSeconds(5), null))
                     .tls(TlsOptions.builder().provider(TlsOptions.Provider.OPENSSL)
                             .trustCertificatePem(mock.certificatePem()).build())
                     .resources(shared).build()) {
            SslContext old = currentContext(client);
            EventLoop loop = shared.transport.group().next();
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch go = new CountDownLatch(1);
            loop.execute(() -> {
                held.countDown();
                try {
                    go.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertThat(held.await(5, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<HttpResponse> f = client.send(HttpRequest.newBuilder(mock.httpsUri().resolve("/ping")).build());
            await().atMost(Duration.ofSeconds(5)).until(() -> ((SingleThreadEventExecutor) loop).pendingTasks() > 0);
            client.reloadTls();
            // grace = 2 x 300 ms + 1 s
            await().atMost(Duration.ofSeconds(10)).until(() -> ((ReferenceCounted) old).refCnt() == 0);
            go.countDown();
            loop.submit(() -> { }).sync();
            loop.submit(() -> { }).sync();
            assertThat(f).failsWithin(Duration.ofSeconds(5));
            assertThat(log.list).as("no SslHandler is made from a released context")
                    .noneMatch(e -> e.getFormattedMessage().contains("Failed to initialize a channel"));
        } finally {
            initLog.detachAppender(log);
        }
    }

    private static SslContext currentContext(ConnectionPoolManager client) throws Exception {
        java.lang.reflect.Field f = ConnectionPoolManager.class.getDeclaredField("tls");
        f.setAccessible(true);
        return ((TlsContexts) f.get(client)).current();
    }
}

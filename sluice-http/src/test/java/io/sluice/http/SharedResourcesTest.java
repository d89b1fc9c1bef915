package io.sluice.http;

import static io.sluice.http.HttpTestSupport.clientFor;
import static io.sluice.http.HttpTestSupport.https;
import static io.sluice.http.HttpTestSupport.testPool;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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

/**
 * Several clients on one set of threads ({@link SluiceResources}), as a service with one client per
 * SDK or provider builds them: they add no threads of their own, closing one leaves the others
 * working, and the resources' owner closes them last. A closed client leaves nothing behind on the shared
 * threads: no timer task, no DNS look-up, no TLS context released under a connect still on a shared loop.
 */
@Timeout(60)
class SharedResourcesTest {
    @RegisterExtension
    static final MockProviderExtension MOCK = MockProviderExtension.withOptions(io.sluice.testkit.MockOptions.builder().build());
    @InjectMock
    static MockProvider mock;

    @Test
    void clientsOnSharedResourcesAddNoThreadsAndOutliveEachOther() throws Exception {
        try (SluiceResources shared = SluiceResources.builder().ioThreads(2).build()) {
            List<ConnectionPoolManager> clients = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                clients.add(clientFor(mock).resources(shared).build());
            }
            HttpRequest ping = HttpRequest.newBuilder(https(mock, "/ping")).build();
            for (ConnectionPoolManager c : clients) {
                assertThat(c.sendBlocking(ping).status()).isEqualTo(200);
            }
            assertThat(threads("sluice-http-timer")).as("one timer for five clients").isLessThanOrEqualTo(2);
            assertThat(eventLoopThreads()).as("event loops for five clients").isLessThanOrEqualTo(2);
            assertThat(threads("sluice-http-callback-lane")).as("callback lanes for five clients")
                    .isLessThanOrEqualTo(Math.max(2, Runtime.getRuntime().availableProcessors()));

            clients.get(0).close();
            for (ConnectionPoolManager c : clients.subList(1, clients.size())) {
                assertThat(c.sendBlocking(ping).status()).as("the others keep working").isEqualTo(200);
            }
            assertThat(shared.isClosed()).isFalse();
            assertThatThrownBy(() -> clients.get(0).sendBlocking(ping)).isInstanceOf(ClientClosedException.class);
            for (ConnectionPoolManager c : clients) {
                c.close();
            }
        }
    }

    @Test
    void aClientOfItsOwnStillClosesItsThreads() throws Exception {
        int before = threads("sluice-http-timer");
        try (ConnectionPoolManager c = clientFor(mock).build()) {
            c.sendBlocking(HttpRequest.newBuilder(https(mock, "/ping")).build());
            assertThat(threads("sluice-http-timer")).isGreaterThan(before);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (threads("sluice-http-timer") > before && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(threads("sluice-http-timer")).as("its timer threads ended with it").isEqualTo(before);
    }

    @Test
    void settingsThatBelongToTheResourcesAndClosedResourcesAreRefused() {
        SluiceResources shared = SluiceResources.create();
        assertThatThrownBy(() -> ConnectionPoolManager.builder().resources(shared).ioThreads(4).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("SluiceResources");
        assertThatThrownBy(() -> ConnectionPoolManager.builder().resources(shared).callbackExecutor(Runnable::run).build())
                .isInstanceOf(IllegalStateException.class);
        shared.close();
        assertThatThrownBy(() -> ConnectionPoolManager.builder().resources(shared).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    private static int threads(String prefix) {
        int n = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith(prefix)) {
                n++;
            }
        }
        return n;
    }

    /** Event-loop threads of clients: named "sluice-http-" plus pool and thread numbers, unlike the timer and callbacks. */
    private static int eventLoopThreads() {
        int n = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().matches("sluice-http-\\d+-\\d+")) {
                n++;
            }
        }
        return n;
    }

    /**
     * A client on shared resources closes while a connect of its own still has its channel registration
     * queued on the shared event loop (which keeps running after the client's close; here it is held). The
     * close ends the connect, which lets go of its TLS context, and the client's own hold goes with the close:
     * the OpenSSL context is released, and the registration that runs later must not build an SslHandler from
     * it (it did, before the dial checked that it had been abandoned). With owned resources the loop is shut
     * down first.
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
     * Look-ups on the bounded, shared DNS pool are dropped when their connect is abandoned (timed out, or its
     * client closed): before, a closed client's queued look-ups still ran, one slow resolution after another,
     * and another client on the same resources timed out "resolving the host name" behind them. (The resolver's
     * sleep is the slow DNS server being simulated, not a wait that orders the test.)
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
     * A tlsReloadInterval under a millisecond (which truncated to 0 ms) is refused by the builder, naming the
     * setting, and leaves no descriptor behind: it used to fail inside ScheduledThreadPoolExecutor after the TLS
     * context and the client's own SluiceResources (epoll/eventfd/timerfd descriptors) were made, and leak both.
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
     * A client on shared resources leaves no task in the shared timer after close(): a call waiting out a
     * status retry's delay (up to the 60 s Retry-After cap) is failed by close() and its scheduled attempt is
     * cancelled (it used to hold the call until the delay ended). A reload schedules nothing (a replaced TLS
     * context is released when its last connect ends, not by a timer).
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
            // A cancelled task leaves the queue when the timer purges it; a task left behind has a 30 s delay, so
            // waiting up to 5 s for an empty queue fails on it.
            await().atMost(Duration.ofSeconds(5)).until(() -> shared.scheduler.getQueue().isEmpty());
            assertThat(shared.scheduler.getQueue()).as("tasks of the closed client still in the shared timer, delays (ms): "
                    + shared.scheduler.getQueue().stream().map(t -> ((java.util.concurrent.ScheduledFuture<?>) t)
                    .getDelay(TimeUnit.MILLISECONDS)).toList()).isEmpty();
        }
    }

    /**
     * A connect queued behind a stalled loop (GC pause, a blocking handler of another client on shared loops)
     * outlives its connect timeout while a reload replaces the context it took: the timeout ends the connect,
     * which lets go of the old context (released then, nobody else holds it), and the registration that runs
     * later must not make an SslHandler from it.
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
            // the connect's 300 ms timeout ends it, and with it the last hold on the old context
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

    /**
     * A connect stalled (its channel's registration held behind a busy shared loop) while a reload replaces the
     * context it took still completes, with that context, however long the stall: the replaced context is held
     * by the connect, not by a grace period (it was released 2 x connect timeout + 1 s after the reload). Once
     * the connection it made is closed, nothing holds the old context and it is released.
     */
    @Test
    void aConnectStalledAcrossAReloadCompletesWithTheContextItTook() throws Exception {
        Assumptions.assumeTrue(OpenSsl.isAvailable(), "OpenSSL contexts are the reference-counted ones");
        Logger initLog = (Logger) LoggerFactory.getLogger(io.netty.channel.ChannelInitializer.class);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        initLog.addAppender(log);
        try (SluiceResources shared = SluiceResources.builder().ioThreads(1).build()) {
            ConnectionPoolManager client = ConnectionPoolManager.builder().poolConfig(testPool().build())
                    .timeouts(new Timeouts(Duration.ofSeconds(20), Duration.ofSeconds(20), Duration.ofSeconds(20), null))
                    .tls(TlsOptions.builder().provider(TlsOptions.Provider.OPENSSL)
                            .trustCertificatePem(mock.certificatePem()).build())
                    .resources(shared).build();
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
            try {
                assertThat(held.await(5, TimeUnit.SECONDS)).isTrue();
                CompletableFuture<HttpResponse> f = client.send(HttpRequest.newBuilder(mock.httpsUri().resolve("/ping")).build());
                await().atMost(Duration.ofSeconds(5)).until(() -> ((SingleThreadEventExecutor) loop).pendingTasks() > 0);
                client.reloadTls();
                assertThat(currentContext(client)).as("new connects use the new context").isNotSameAs(old);
                assertThat(((ReferenceCounted) old).refCnt()).as("the old context, held by the stalled connect").isPositive();
                go.countDown();
                assertThat(f.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            } finally {
                go.countDown();
                client.close();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> ((ReferenceCounted) old).refCnt() == 0);
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

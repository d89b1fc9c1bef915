package io.sluice.http.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.ClientClosedException;
import io.sluice.http.Http2Settings;
import io.sluice.http.Limits;
import io.sluice.http.Route;
import io.sluice.http.spi.NettyTransport;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An attempt the client's close cuts ends with ClientClosedException. The attempt whose timer the closing
 * client's scheduler rejected ended with ConnectFailedException("the client is closing"), which the route's
 * outlier detection counts against the route.
 */
class RouteConnectionManagerCloseTest {

    @Test
    @Timeout(20)
    void anAttemptRejectedByTheClosingClientsSchedulerIsAClientClosedException() throws Exception {
        NettyTransport transport = new NettyTransport(1, false, Duration.ofSeconds(5));
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try {
            RouteConnectionManager m = new RouteConnectionManager(Route.of(URI.create("http://127.0.0.1:9/")), transport,
                    (TlsContexts) null, new TransportSettings(Limits.defaults(), Http2Settings.defaults(), false, Duration.ofSeconds(5)),
                    scheduler, Runnable::run, new HandshakeRecorder(), io.sluice.http.AddressResolver.system(), null);
            m.clientClosing();            // ConnectionPoolManager.close() does this first...
            scheduler.shutdownNow();      // ...and shuts the scheduler down while pools may still connect
            CompletableFuture<HttpConnection> f = m.connect(c -> { }).toCompletableFuture();
            Throwable outcome;
            try {
                f.get(5, TimeUnit.SECONDS);
                outcome = null;
            } catch (ExecutionException e) {
                outcome = e.getCause();
            }
            assertThat(outcome).isInstanceOf(ClientClosedException.class);
        } finally {
            transport.close();
        }
    }
}

package io.sluice.http;

import static io.sluice.http.HttpTestSupport.clientFor;
import static io.sluice.http.HttpTestSupport.https;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.testkit.MockProvider;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Several clients on one set of threads ({@link SluiceResources}), as a service with one client per
 * SDK or provider builds them: they add no threads of their own, closing one leaves the others
 * working, and the resources' owner closes them last.
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
}

package io.sluice.http.faults;

import static io.sluice.http.faults.FaultSupport.assertAccountingExact;
import static io.sluice.http.faults.FaultSupport.chat;
import static io.sluice.http.faults.FaultSupport.clientFor;
import static io.sluice.http.faults.FaultSupport.within;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.StreamingResponse;
import io.sluice.http.faults.FaultSupport.Proto;
import io.sluice.testkit.MockProvider;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Fault matrix row 14: a storm of cancelled requests and abandoned streaming responses. Futures
 * are cancelled at random moments (before the slot, during the exchange, after the head),
 * streaming responses are closed mid-body with chunks held and released late. Afterwards the
 * pool's accounting is exact, nothing leaked, and the route still serves requests.
 */
@ExtendWith(MockProviderExtension.class)
class CancellationStormFaultTest {

    private static final Duration DEADLINE = Duration.ofSeconds(20);
    @InjectMock
    static MockProvider mock;

    @ParameterizedTest
    @EnumSource(Proto.class)
    void row14_cancelAndAbandonStorm(Proto p) {
        Random rnd = new Random(14);
        ScheduledExecutorService timer = Executors.newScheduledThreadPool(2);
        try (ConnectionPoolManager client = clientFor(mock)
                .poolConfig(FaultSupport.pool().maxConnections(p == Proto.H1 ? 16 : 4).build()).build()) {
            List<CompletableFuture<?>> work = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                HttpRequest req = chat(p.uri(mock, "/v1/chat/completions"), true).header("x-mock-tokens", "40")
                        .header("x-mock-token-delay-ms", "1").build();
                CompletableFuture<StreamingResponse> f = client.stream(req);
                switch (rnd.nextInt(4)) {
                    // A cancel that loses the race with the response leaves the caller owning it, and a
                    // caller must close what it owns (as with any streaming response).
                    case 0 -> timer.schedule(() -> {
                        if (!f.cancel(true)) {
                            f.thenAccept(StreamingResponse::close);
                        }
                    }, rnd.nextInt(20), TimeUnit.MILLISECONDS);
                    case 1 -> work.add(f.thenAccept(r -> timer.schedule(r::close, rnd.nextInt(20), TimeUnit.MILLISECONDS)));
                    case 2 -> work.add(f.thenCompose(r -> r.readChunk().thenAccept(c -> {
                        r.close(); // abandon with a chunk still held...
                        if (c != null) {
                            timer.schedule(c::close, 5, TimeUnit.MILLISECONDS); // ...released after the close
                        }
                    })));
                    default -> work.add(f.thenCompose(StreamingResponse::aggregate));
                }
                work.add(f);
            }
            for (CompletableFuture<?> w : work) {
                try {
                    within(w, DEADLINE);
                } catch (RuntimeException | AssertionError expected) {
                    if (expected instanceof AssertionError a && String.valueOf(a.getMessage()).contains("hung")) {
                        throw a;
                    }
                    // cancelled, or a read cut by its own close: both expected here
                }
            }
            assertAccountingExact(client);
            assertThat(within(client.send(chat(p.uri(mock, "/v1/chat/completions"), false).build()), DEADLINE).status())
                    .isEqualTo(200);
            assertAccountingExact(client);
        } finally {
            timer.shutdownNow();
        }
    }

}

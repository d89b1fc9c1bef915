package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.http.internal.transport.Http2Connection;
import io.sluice.http.internal.transport.HttpConnection;
import io.sluice.pool.Lease;
import io.sluice.pool.PoolConfig;
import io.sluice.testkit.adversary.AdversaryH2Server;
import io.sluice.testkit.adversary.H2Script;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A keepalive PING in flight must not take a multiplexed connection out of service: a burst that arrives while
 * the PING is out would otherwise open new connections although the one it fits is healthy (seen: 1 000
 * concurrent GETs grew a pool from 10 to 17 connections). Only a PING unanswered past its expected round trip
 * stops new streams. The server here stops answering PINGs after its first request, so every keepalive PING
 * stays out.
 */
@Timeout(60)
class KeepalivePingCapacityTest {

    private static ConnectionPoolManager client(AdversaryH2Server server) {
        return ConnectionPoolManager.builder()
                .h2cPriorKnowledge(true)
                // keepalive every 50 ms; a PING is given 30 s before the connection is closed
                .http2(Http2Settings.defaults().withPing(Duration.ofMillis(50), Duration.ofSeconds(30)))
                // no checkout validation: only the keepalive PING is under test
                .poolConfig(PoolConfig.builder().minIdle(0).maxRetries(0)
                        .validationBypassWindow(Duration.ofSeconds(60)).build())
                .build();
    }

    private static AdversaryH2Server silentAfterFirstAnswer() {
        return AdversaryH2Server.builder().script(1, H2Script.ok().ackPings(false)).start();
    }

    private static HttpRequest get(AdversaryH2Server server) {
        return HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build();
    }

    private static Http2Connection connectionOf(ConnectionPoolManager client, AdversaryH2Server server) {
        Lease<HttpConnection> lease = client.routePool(Route.of(server.uri())).acquire().join();
        try {
            return (Http2Connection) lease.connection();
        } finally {
            lease.close();
        }
    }

    @Test
    void aBurstWhileAKeepalivePingIsInFlightUsesTheConnectionItFits() throws Exception {
        try (AdversaryH2Server server = silentAfterFirstAnswer(); ConnectionPoolManager client = client(server)) {
            assertThat(client.sendBlocking(get(server)).status()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(10)).until(() -> !server.connectionRecords().get(0).pingsReceived().isEmpty());

            List<CompletableFuture<HttpResponse>> burst = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                burst.add(client.send(get(server)));
            }
            for (CompletableFuture<HttpResponse> f : burst) {
                assertThat(f.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            }
            assertThat(server.connections()).as("50 streams fit the one connection whose PING is in flight").isEqualTo(1);
            assertThat(client.stats(Route.of(server.uri())).created()).isEqualTo(1);
        }
    }

    @Test
    void aPingUnansweredPastItsRoundTripStopsNewStreamsUntilAnswered() throws Exception {
        try (AdversaryH2Server server = silentAfterFirstAnswer(); ConnectionPoolManager client = client(server)) {
            assertThat(client.sendBlocking(get(server)).status()).isEqualTo(200);
            Http2Connection first = connectionOf(client, server);
            await().atMost(Duration.ofSeconds(10)).until(() -> first.capacity() == 0);

            assertThat(client.sendBlocking(get(server)).status()).isEqualTo(200);
            assertThat(server.connections()).as("the suspect connection took no new stream").isEqualTo(2);
            assertThat(first.isBroken()).as("overdue is not dead: the PING timeout decides that").isFalse();
        }
    }
}

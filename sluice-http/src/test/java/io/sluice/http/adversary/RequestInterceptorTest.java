package io.sluice.http.adversary;

import static io.sluice.http.adversary.AdversaryClients.outcome;
import static io.sluice.http.adversary.AdversaryClients.within;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.InvalidRequestException;
import io.sluice.testkit.adversary.AdversaryH2Server;
import io.sluice.testkit.adversary.H2Script;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Request interceptors, seen from the server: what a per-call interceptor adds is on the wire
 * once; a per-attempt interceptor runs again for a status retry, so a token refreshed in between
 * is the one sent; an interceptor that throws or changes the route fails the call typed, with
 * nothing sent.
 */
@Timeout(30)
class RequestInterceptorTest {

    @Test
    void aCallInterceptorRewritesTheRequestOnce() {
        AtomicInteger calls = new AtomicInteger();
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(H2Script.ok()).start();
             ConnectionPoolManager client = ConnectionPoolManager.builder().h2cPriorKnowledge(true)
                     .poolConfig(AdversaryClients.pool()).timeouts(AdversaryClients.timeouts())
                     .interceptor(r -> {
                         calls.incrementAndGet();
                         return r.toBuilder().header("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
                                 .build();
                     }).build()) {
            assertThat(within(client.send(HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build())).status())
                    .isEqualTo(200);
            assertThat(server.stream(1).headers().get("traceparent")).containsExactly(
                    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
            assertThat(calls.get()).isEqualTo(1);
        }
    }

    @Test
    void anAttemptInterceptorRunsAgainForAStatusRetry() {
        AtomicInteger token = new AtomicInteger();
        H2Script busy = H2Script.stream().headers(503, false, "retry-after", "0").data("busy", true);
        try (AdversaryH2Server server = AdversaryH2Server.builder().scripts(busy, H2Script.ok()).start();
             ConnectionPoolManager client = ConnectionPoolManager.builder().h2cPriorKnowledge(true)
                     .poolConfig(AdversaryClients.pool()).timeouts(AdversaryClients.timeouts())
                     .attemptInterceptor(r -> r.toBuilder()
                             .header("authorization", "Bearer token-" + token.incrementAndGet()).build()).build()) {
            assertThat(within(client.send(HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build())).status())
                    .isEqualTo(200);
            assertThat(server.stream(1).headers().get("authorization")).containsExactly("Bearer token-1");
            assertThat(server.stream(2).headers().get("authorization")).as("the retry carries the fresh token")
                    .containsExactly("Bearer token-2");
        }
    }

    @Test
    void anInterceptorThatThrowsOrMovesTheRouteFailsTheCallAndSendsNothing() {
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(H2Script.ok()).start()) {
            HttpRequest get = HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build();
            try (ConnectionPoolManager client = ConnectionPoolManager.builder().h2cPriorKnowledge(true)
                    .poolConfig(AdversaryClients.pool()).timeouts(AdversaryClients.timeouts())
                    .interceptor(r -> {
                        throw new IllegalStateException("token store unavailable");
                    }).build()) {
                assertThat(outcome(client.send(get))).isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.getCause()).hasMessage("token store unavailable"));
            }
            try (ConnectionPoolManager client = ConnectionPoolManager.builder().h2cPriorKnowledge(true)
                    .poolConfig(AdversaryClients.pool()).timeouts(AdversaryClients.timeouts())
                    .attemptInterceptor(r -> HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:1/elsewhere"))
                            .build()).build()) {
                assertThat(outcome(client.send(get))).isInstanceOf(InvalidRequestException.class);
                assertThat(client.stats(get.route()).leasesOut()).isZero();
            }
            assertThat(server.streams()).as("nothing reached the server").isEmpty();
        }
    }
}

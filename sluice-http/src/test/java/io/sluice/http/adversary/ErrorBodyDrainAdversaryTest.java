package io.sluice.http.adversary;

import static io.sluice.http.adversary.AdversaryClients.BOUND;
import static io.sluice.http.adversary.AdversaryClients.h2c;
import static io.sluice.http.adversary.AdversaryClients.http1;
import static io.sluice.http.faults.FaultSupport.assertAccountingExact;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.RequestTimeoutException;
import io.sluice.http.internal.client.Errors;
import io.sluice.testkit.adversary.AdversaryH2Server;
import io.sluice.testkit.adversary.AdversaryHttp1Server;
import io.sluice.testkit.adversary.H2Script;
import io.sluice.testkit.adversary.Http1Script;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A retryable status (503, 429) whose body never arrives in full: {@code content-length: 100},
 * 10 bytes, then silence (no more bytes, no close). The client drains error bodies before a
 * status retry; that drain must be bounded by the body-idle timeout, so the call completes
 * (a typed {@link RequestTimeoutException}, or the retry's 200) and no lease or slot stays held.
 */
@Timeout(45)
class ErrorBodyDrainAdversaryTest {
    private static final Duration BODY_IDLE = Duration.ofSeconds(1);

    private static String stalledHead(int status) {
        return "HTTP/1.1 " + status + (status == 503 ? " Service Unavailable" : " Too Many Requests") + "\r\n"
                + "Content-Type: application/json\r\nContent-Length: 100\r\nretry-after-ms: 1\r\n\r\n0123456789";
    }

    private static H2Script stalledH2(int status) {
        return H2Script.stream().awaitRequestBody()
                .headers(status, false, "content-type", "application/json", "content-length", "100",
                        "retry-after-ms", "1")
                .data("0123456789", false);
    }

    private static HttpRequest post(URI base) {
        return HttpRequest.newBuilder(base.resolve("/v1/chat/completions")).POST("{\"model\":\"m\"}")
                .header("content-type", "application/json").bodyIdleTimeout(BODY_IDLE).build();
    }

    /** Control: the same retry with a complete error body succeeds, so a red row above is the stall, not the harness. */
    @ParameterizedTest(name = "control: HTTP/1.1 {0} complete, then 200")
    @ValueSource(ints = {503, 429})
    void http1CompleteErrorBodyThenOk(int status) throws Exception {
        String complete = stalledHead(status).replace("Content-Length: 100", "Content-Length: 10");
        try (AdversaryHttp1Server server = AdversaryHttp1Server.builder()
                .script(1, Http1Script.reply().readBody().send(complete)).start();
             ConnectionPoolManager client = http1()) {
            assertOkOrBodyIdleTimeout(client.send(post(server.uri())));
            assertThat(server.requests()).hasSize(2);
            assertAccountingExact(client);
        }
    }

    /** Control over HTTP/2: a complete error body, then 200. */
    @ParameterizedTest(name = "control: HTTP/2 {0} complete, then 200")
    @ValueSource(ints = {503, 429})
    void h2CompleteErrorBodyThenOk(int status) throws Exception {
        H2Script complete = H2Script.stream().awaitRequestBody()
                .headers(status, false, "content-type", "application/json", "retry-after-ms", "1")
                .data("0123456789", true);
        try (AdversaryH2Server server = AdversaryH2Server.builder().script(1, complete).start();
             ConnectionPoolManager client = h2c()) {
            assertOkOrBodyIdleTimeout(client.send(post(server.uri())));
            assertThat(server.streams()).hasSize(2);
            assertAccountingExact(client);
        }
    }

    @ParameterizedTest(name = "HTTP/1.1 {0} stalled, then 200")
    @ValueSource(ints = {503, 429})
    void http1StalledErrorBodyThenOk(int status) throws Exception {
        try (AdversaryHttp1Server server = AdversaryHttp1Server.builder()
                .script(1, Http1Script.reply().readBody().send(stalledHead(status))).start();
             ConnectionPoolManager client = http1()) {
            assertOkOrBodyIdleTimeout(client.send(post(server.uri())));
            assertAccountingExact(client);
        }
    }

    @ParameterizedTest(name = "HTTP/1.1 {0} stalled every time")
    @ValueSource(ints = {503, 429})
    void http1StalledErrorBodyEveryTime(int status) throws Exception {
        try (AdversaryHttp1Server server = AdversaryHttp1Server.builder()
                .defaultScript(Http1Script.reply().readBody().send(stalledHead(status))).start();
             ConnectionPoolManager client = http1()) {
            assertBodyIdleTimeout(client.send(post(server.uri())));
            assertAccountingExact(client);
        }
    }

    @ParameterizedTest(name = "HTTP/2 {0} stalled, then 200")
    @ValueSource(ints = {503, 429})
    void h2StalledErrorBodyThenOk(int status) throws Exception {
        try (AdversaryH2Server server = AdversaryH2Server.builder().script(1, stalledH2(status)).start();
             ConnectionPoolManager client = h2c()) {
            assertOkOrBodyIdleTimeout(client.send(post(server.uri())));
            assertAccountingExact(client);
        }
    }

    @ParameterizedTest(name = "HTTP/2 {0} stalled every time")
    @ValueSource(ints = {503, 429})
    void h2StalledErrorBodyEveryTime(int status) throws Exception {
        try (AdversaryH2Server server = AdversaryH2Server.builder().defaultScript(stalledH2(status)).start();
             ConnectionPoolManager client = h2c()) {
            assertBodyIdleTimeout(client.send(post(server.uri())));
            assertAccountingExact(client);
        }
    }

    /** The retry's 200, or a body-idle timeout; anything else, or no completion within the bound, fails. */
    private static void assertOkOrBodyIdleTimeout(CompletableFuture<HttpResponse> f) throws InterruptedException {
        try {
            HttpResponse r = f.get(BOUND.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(r.status()).as("the retry's answer").isEqualTo(200);
            assertThat(r.bodyAsString()).isEqualTo("ok");
        } catch (TimeoutException e) {
            fail("the call did not complete within " + BOUND + " although the body-idle timeout is " + BODY_IDLE
                    + ": the error-body drain is unbounded");
        } catch (ExecutionException e) {
            assertIsBodyIdleTimeout(Errors.unwrap(e));
        }
    }

    private static void assertBodyIdleTimeout(CompletableFuture<HttpResponse> f) throws InterruptedException {
        try {
            HttpResponse r = f.get(BOUND.toMillis(), TimeUnit.MILLISECONDS);
            fail("expected a body-idle timeout, got " + r);
        } catch (TimeoutException e) {
            fail("the call did not complete within " + BOUND + " although the body-idle timeout is " + BODY_IDLE
                    + ": the error-body drain is unbounded");
        } catch (ExecutionException e) {
            assertIsBodyIdleTimeout(Errors.unwrap(e));
        }
    }

    private static void assertIsBodyIdleTimeout(Throwable t) {
        assertThat(t).as("failure").isInstanceOf(RequestTimeoutException.class);
        RequestTimeoutException rte = (RequestTimeoutException) t;
        assertThat(rte.phase()).isIn(RequestTimeoutException.Phase.BODY_IDLE, RequestTimeoutException.Phase.TOTAL);
    }
}

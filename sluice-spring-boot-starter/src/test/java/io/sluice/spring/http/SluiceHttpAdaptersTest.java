package io.sluice.spring.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.Protocol;
import io.sluice.http.Route;
import io.sluice.http.TlsOptions;
import io.sluice.pool.PoolConfig;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.BodyInserters;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The Spring adapters without Spring Boot: RestClient over {@link SluiceClientHttpRequestFactory} and WebClient over
 * {@link SluiceClientHttpConnector}, against the testkit's mock (TLS, HTTP/2) and a loopback server whose pace the
 * test sets ({@link LockstepServer}): a stream's next event is sent only after the test has seen the previous one,
 * and a request body's second part is written only after the server has received the first. A client that buffered
 * either way would time out instead.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SluiceHttpAdaptersTest {

    static MockProvider mock;
    static ConnectionPoolManager manager;

    @BeforeAll
    static void start() {
        mock = MockProvider.start(MockOptions.defaults());
        manager = ConnectionPoolManager.builder()
                .poolConfig(PoolConfig.builder().maxConnections(4).minIdle(0).build())
                .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build())
                .build();
    }

    @AfterAll
    static void stop() {
        manager.close();
        mock.close();
    }

    static String readEvent(BufferedReader r) throws Exception {
        String data = null;
        for (String line; (line = r.readLine()) != null && !line.isEmpty();) {
            if (line.startsWith("data:")) {
                data = line.substring(5).trim();
            }
        }
        return data;
    }

    @Test
    void restClientReadsServerSentEventsOneByOneAsTheServerSendsThem() throws Exception {
        RestClient rest = RestClient.builder().requestFactory(new SluiceClientHttpRequestFactory(manager)).build();
        try (LockstepServer server = new LockstepServer()) {
            String last = rest.get().uri(server.uri("/sse?n=3")).exchange((request, response) -> {
                assertThat(response.getStatusCode().value()).isEqualTo(200);
                BufferedReader r = new BufferedReader(new InputStreamReader(response.getBody(), StandardCharsets.UTF_8));
                for (int i = 1; i <= 3; i++) {
                    server.releaseEvent(); // the server sends event i only now, after the test saw event i-1
                    try {
                        assertThat(readEvent(r)).isEqualTo("event-" + i);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }
                return r.readLine();
            }, true);
            assertThat(last).as("the body ends after the last event").isNull();
        }
    }

    @Test
    void restClientStreamsTheRequestBodyWhileItIsWritten() throws Exception {
        RestClient rest = RestClient.builder().requestFactory(new SluiceClientHttpRequestFactory(manager)).build();
        try (LockstepServer server = new LockstepServer()) {
            String echoed = rest.post().uri(server.uri("/upload")).contentType(MediaType.TEXT_PLAIN)
                    .body(out -> {
                        out.write("part-1;".getBytes(StandardCharsets.UTF_8));
                        out.flush();
                        try {
                            // Only a streamed body lets the server see part 1 before part 2 is written.
                            assertThat(server.firstChunk.await(10, TimeUnit.SECONDS)).as("first part on the wire").isTrue();
                        } catch (InterruptedException e) {
                            throw new java.io.InterruptedIOException();
                        }
                        out.write("part-2".getBytes(StandardCharsets.UTF_8));
                    })
                    .retrieve().body(String.class);
            assertThat(echoed).isEqualTo("part-1;part-2");
        }
    }

    @Test
    void restClientTalksHttp2ToTheMockProvider() {
        RestClient rest = RestClient.builder().requestFactory(new SluiceClientHttpRequestFactory(manager))
                .baseUrl(mock.httpsUri().toString()).build();
        String body = rest.post().uri("/v1/chat/completions").contentType(MediaType.APPLICATION_JSON)
                .header("authorization", "Bearer sk-test")
                .body("{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                .retrieve().body(String.class);
        assertThat(body).contains("chat.completion");
        assertThat(manager.connections(Route.of(mock.httpsUri()))).isNotEmpty()
                .allSatisfy(c -> assertThat(c.protocol()).isEqualTo(Protocol.H2));
    }

    @Test
    void webClientReadsServerSentEventsOneByOneAsTheServerSendsThem() throws Exception {
        WebClient web = WebClient.builder().clientConnector(new SluiceClientHttpConnector(manager)).build();
        try (LockstepServer server = new LockstepServer()) {
            BlockingQueue<String> seen = new LinkedBlockingQueue<>();
            web.get().uri(server.uri("/sse?n=3")).retrieve()
                    .bodyToFlux(new ParameterizedTypeReference<ServerSentEvent<String>>() { })
                    .map(ServerSentEvent::data)
                    .subscribe(seen::add, e -> seen.add("error: " + e), () -> seen.add("complete"));
            for (int i = 1; i <= 3; i++) {
                server.releaseEvent(); // event i is sent only after the test has seen event i-1
                assertThat(seen.poll(10, TimeUnit.SECONDS)).isEqualTo("event-" + i);
            }
            assertThat(seen.poll(10, TimeUnit.SECONDS)).isEqualTo("complete");
        }
    }

    @Test
    void webClientStreamsTheRequestBody() throws Exception {
        WebClient web = WebClient.builder().clientConnector(new SluiceClientHttpConnector(manager)).build();
        try (LockstepServer server = new LockstepServer()) {
            Flux<String> parts = Flux.concat(Mono.just("part-1;"), Mono.fromCallable(() -> {
                // The second part exists only once the server holds the first: no buffering on the way.
                assertThat(server.firstChunk.await(10, TimeUnit.SECONDS)).as("first part on the wire").isTrue();
                return "part-2";
            }).subscribeOn(Schedulers.boundedElastic()));
            String echoed = web.post().uri(server.uri("/upload")).contentType(MediaType.TEXT_PLAIN)
                    .body(BodyInserters.fromPublisher(parts, String.class))
                    .retrieve().bodyToMono(String.class).block(java.time.Duration.ofSeconds(30));
            assertThat(echoed).isEqualTo("part-1;part-2");
        }
    }

    @Test
    void webClientTalksHttp2ToTheMockProvider() {
        WebClient web = WebClient.builder().clientConnector(new SluiceClientHttpConnector(manager))
                .baseUrl(mock.httpsUri().toString()).build();
        String body = web.post().uri("/v1/chat/completions").contentType(MediaType.APPLICATION_JSON)
                .header("authorization", "Bearer sk-test")
                .bodyValue("{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                .retrieve().bodyToMono(String.class).block(java.time.Duration.ofSeconds(30));
        assertThat(body).contains("chat.completion");
    }
}

package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.sluice.pool.PoolConfig;
import io.sluice.testkit.dns.TestDnsServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link DnsResolver} against a real DNS server on loopback ({@link TestDnsServer}) and two HTTP
 * servers, one on 127.0.0.1 and one on 127.0.0.2, same port: a provider name that moves from the
 * first to the second. An answer is kept for its TTL (no question while it lasts), a name whose
 * record expired is asked again and the pool follows it once the old endpoint's connections close,
 * and a name that does not exist is a typed connect failure.
 */
@Timeout(30)
class DnsResolverTest {

    private static final String NAME = "api.provider.test";

    private TestDnsServer dns;
    private HttpServer one;
    private HttpServer two;
    private int port;

    private static HttpServer server(InetAddress at, int port, String name) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(at, port), 16);
        s.createContext("/", exchange -> {
            byte[] body = name.getBytes(StandardCharsets.UTF_8);
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        s.start();
        return s;
    }

    @BeforeEach
    void start() throws IOException {
        dns = TestDnsServer.start();
        one = server(InetAddress.getByName("127.0.0.1"), 0, "one");
        port = one.getAddress().getPort();
        two = server(InetAddress.getByName("127.0.0.2"), port, "two");
    }

    @AfterEach
    void stop() {
        one.stop(0);
        two.stop(0);
        dns.close();
    }

    private ConnectionPoolManager client(DnsResolver resolver) {
        return ConnectionPoolManager.builder().resolver(resolver)
                .poolConfig(PoolConfig.builder().minIdle(0).maxRetries(0).build()).build();
    }

    private String get(ConnectionPoolManager client) {
        HttpResponse r = client.sendBlocking(HttpRequest.newBuilder(URI.create("http://" + NAME + ":" + port + "/")).build());
        return r.bodyAsString();
    }

    @Test
    void anAnswerIsKeptForItsTtlAndNotAskedAgain() throws Exception {
        dns.answer(NAME, 300, InetAddress.getByName("127.0.0.1"));
        try (DnsResolver resolver = DnsResolver.builder().nameServers(dns.address()).build()) {
            try (ConnectionPoolManager client = client(resolver)) {
                assertThat(get(client)).isEqualTo("one");
            }
            int asked = dns.questions(NAME);
            assertThat(asked).isPositive();
            dns.answer(NAME, 300, InetAddress.getByName("127.0.0.2")); // changed, but the old record is still valid
            try (ConnectionPoolManager client = client(resolver)) {
                assertThat(get(client)).as("a new client's connect uses the cached answer").isEqualTo("one");
            }
            assertThat(dns.questions(NAME)).as("no question while the TTL lasts").isEqualTo(asked);
        }
    }

    @Test
    void aProviderThatMovesIsFollowedWhenItsRecordExpiresAndItsOldConnectionsClose() throws Exception {
        dns.answer(NAME, 0, InetAddress.getByName("127.0.0.1"));
        try (DnsResolver resolver = DnsResolver.builder().nameServers(dns.address()).build();
             ConnectionPoolManager client = client(resolver)) {
            assertThat(get(client)).isEqualTo("one");
            int asked = dns.questions(NAME);
            dns.answer(NAME, 0, InetAddress.getByName("127.0.0.2"));
            assertThat(get(client)).as("the open connection still serves").isEqualTo("one");
            one.stop(0); // the old endpoint drains: its connections close
            assertThat(get(client)).as("the next connect resolves again and reaches the new address").isEqualTo("two");
            assertThat(dns.questions(NAME)).isGreaterThan(asked);
        }
    }

    @Test
    void aNameThatDoesNotExistIsATypedConnectFailure() {
        try (DnsResolver resolver = DnsResolver.builder().nameServers(dns.address())
                .queryTimeout(Duration.ofSeconds(2)).build();
             ConnectionPoolManager client = client(resolver)) {
            assertThatThrownBy(() -> get(client)).isInstanceOf(ConnectFailedException.class)
                    .hasMessageContaining("cannot resolve host");
            HttpTestSupport.assertNoLeasesOut(client);
        }
    }
}

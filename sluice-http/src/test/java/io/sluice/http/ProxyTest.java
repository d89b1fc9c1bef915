package io.sluice.http;

import static io.sluice.http.HttpTestSupport.https;
import static io.sluice.http.HttpTestSupport.testPool;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.testkit.MockProvider;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import io.sluice.testkit.proxy.TestProxy;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Forward proxies on loopback (testkit's {@link TestProxy}): HTTP CONNECT and SOCKS5, with and
 * without credentials. TLS and ALPN run end to end through the tunnel, so HTTP/2 reaches the
 * provider; the pool reuses a tunnelled connection; refusals are typed and not retried.
 */
@Timeout(30)
class ProxyTest {
    @RegisterExtension
    static final MockProviderExtension MOCK = MockProviderExtension.withOptions(io.sluice.testkit.MockOptions.builder().build());
    @InjectMock
    static MockProvider mock;

    private static ConnectionPoolManager client(ProxyOptions proxy) {
        return ConnectionPoolManager.builder().proxy(proxy).poolConfig(testPool().maxRetries(2).build())
                .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build()).build();
    }

    @Test
    void http2OverTlsThroughAConnectTunnelAndTheTunnelIsReused() {
        try (TestProxy proxy = TestProxy.httpConnect();
             ConnectionPoolManager client = client(ProxyOptions.http("127.0.0.1", proxy.port()))) {
            HttpRequest ping = HttpRequest.newBuilder(https(mock, "/ping")).build();
            for (int i = 0; i < 3; i++) {
                HttpResponse r = client.sendBlocking(ping);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.protocol()).as("ALPN end to end through the tunnel").isEqualTo(Protocol.H2);
            }
            assertThat(proxy.tunnels()).as("one tunnelled connection carried all three").isEqualTo(1);
            assertThat(proxy.targets()).as("the proxy resolved the route").containsExactly(mock.httpsUri().getHost() + ":" + mock.httpsUri().getPort());
        }
    }

    @Test
    void basicCredentialsOpenTheTunnelAndA407IsATypedErrorNotRetried() {
        try (TestProxy proxy = TestProxy.httpConnect("alice", "s3cret")) {
            HttpRequest ping = HttpRequest.newBuilder(https(mock, "/ping")).build();
            try (ConnectionPoolManager client = client(ProxyOptions.http("127.0.0.1", proxy.port())
                    .withCredentials("alice", "s3cret"))) {
                assertThat(client.sendBlocking(ping).status()).isEqualTo(200);
            }
            ProxyOptions wrong = ProxyOptions.http("127.0.0.1", proxy.port()).withCredentials("alice", "wrong");
            assertThat(wrong.toString()).doesNotContain("wrong");
            try (ConnectionPoolManager client = client(wrong)) {
                assertThatThrownBy(() -> client.sendBlocking(ping)).isInstanceOfSatisfying(ProxyFailedException.class, e -> {
                    assertThat(e.status()).isEqualTo(407);
                    assertThat(e.retryable()).isFalse();
                    assertThat(e.getMessage()).doesNotContain("wrong");
                });
                assertThat(proxy.refused()).as("refused once: the pool's 2 connect retries were not spent on it").isEqualTo(1);
                assertThat(client.stats(ping.route()).open()).isZero();
            }
        }
    }

    @Test
    void socks5WithAndWithoutCredentials() {
        HttpRequest ping = HttpRequest.newBuilder(https(mock, "/ping")).build();
        try (TestProxy proxy = TestProxy.socks5();
             ConnectionPoolManager client = client(ProxyOptions.socks5("127.0.0.1", proxy.port()))) {
            assertThat(client.sendBlocking(ping).protocol()).isEqualTo(Protocol.H2);
            assertThat(proxy.tunnels()).isEqualTo(1);
        }
        try (TestProxy proxy = TestProxy.socks5("bob", "pw")) {
            try (ConnectionPoolManager client = client(ProxyOptions.socks5("127.0.0.1", proxy.port()).withCredentials("bob", "pw"))) {
                assertThat(client.sendBlocking(ping).status()).isEqualTo(200);
            }
            try (ConnectionPoolManager client = client(ProxyOptions.socks5("127.0.0.1", proxy.port()).withCredentials("bob", "no"))) {
                assertThatThrownBy(() -> client.sendBlocking(ping)).isInstanceOf(ProxyFailedException.class);
            }
        }
    }

    @Test
    void aProxyThatIsNotThereIsAConnectFailureAndTheNoProxyListGoesDirect() throws Exception {
        int dead;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            dead = s.getLocalPort();
        }
        HttpRequest ping = HttpRequest.newBuilder(https(mock, "/ping")).build();
        try (ConnectionPoolManager client = client(ProxyOptions.http("127.0.0.1", dead))) {
            assertThatThrownBy(() -> client.sendBlocking(ping)).isInstanceOf(ConnectFailedException.class);
        }
        try (TestProxy proxy = TestProxy.httpConnect();
             ConnectionPoolManager client = client(ProxyOptions.http("127.0.0.1", proxy.port())
                     .withNoProxy(List.of(mock.httpsUri().getHost())))) {
            assertThat(client.sendBlocking(ping).status()).isEqualTo(200);
            assertThat(proxy.tunnels()).as("the route's host is on the no-proxy list").isZero();
        }
    }

    @Test
    void theEnvironmentAndTheJvmPropertiesAreReadAsCurlAndTheJdkDo() {
        ProxyOptions env = ProxyOptions.fromEnvironment(Map.of("HTTPS_PROXY", "http://u%40corp:p%3Ass@proxy.corp:3128",
                "NO_PROXY", "localhost, .internal,10.0.0.1"));
        assertThat(env.type()).isEqualTo(ProxyOptions.Type.HTTP);
        assertThat(env.host()).isEqualTo("proxy.corp");
        assertThat(env.port()).isEqualTo(3128);
        assertThat(env.username()).isEqualTo("u@corp");
        assertThat(env.password()).isEqualTo("p:ss");
        assertThat(env.bypasses("api.internal")).isTrue();
        assertThat(env.bypasses("internal")).isTrue();
        assertThat(env.bypasses("LOCALHOST")).isTrue();
        assertThat(env.bypasses("api.openai.com")).isFalse();
        assertThat(ProxyOptions.fromEnvironment(Map.of("https_proxy", "socks5://127.0.0.1")).port()).isEqualTo(1080);
        assertThat(ProxyOptions.fromEnvironment(Map.of())).isNull();
        java.util.Properties p = new java.util.Properties();
        p.setProperty("https.proxyHost", "proxy.corp");
        p.setProperty("https.proxyPort", "8443");
        p.setProperty("http.nonProxyHosts", "*.internal|localhost");
        ProxyOptions sys = ProxyOptions.fromSystemProperties(p);
        assertThat(sys.port()).isEqualTo(8443);
        assertThat(sys.bypasses("a.internal")).isTrue();
        assertThat(sys.bypasses("api.anthropic.com")).isFalse();
        assertThat(ProxyOptions.fromSystemProperties(new java.util.Properties())).isNull();
    }
}

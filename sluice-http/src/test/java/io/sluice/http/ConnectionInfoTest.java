package io.sluice.http;

import static io.sluice.http.HttpTestSupport.clientFor;
import static io.sluice.http.HttpTestSupport.http;
import static io.sluice.http.HttpTestSupport.https;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link ConnectionPoolManager#connections(Route)}: what each open connection negotiated, from the public API. */
class ConnectionInfoTest {
    @RegisterExtension
    static final MockProviderExtension MOCK = MockProviderExtension.withOptions(
            MockOptions.builder().maxConcurrentStreams(32).build());
    @InjectMock
    static MockProvider mock;

    @Test
    void tlsHttp2ConnectionShowsVersionCipherAndTheServersStreamLimit() {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            HttpRequest ping = HttpRequest.newBuilder(https(mock, "/ping")).build();
            assertThat(client.sendBlocking(ping).status()).isEqualTo(200);
            List<ConnectionInfo> open = client.connections(ping.route());
            assertThat(open).hasSize(1);
            ConnectionInfo c = open.get(0);
            assertThat(c.route()).isEqualTo(ping.route());
            assertThat(c.protocol()).isEqualTo(Protocol.H2);
            assertThat(c.secure()).isTrue();
            assertThat(c.tlsVersion()).startsWith("TLSv1.");
            assertThat(c.cipherSuite()).isNotBlank();
            assertThat(c.peerMaxConcurrentStreams()).isEqualTo(32);
            assertThat(c.capacity()).isBetween(1, 32);
            assertThat(c.exchanges()).isEqualTo(1);
            // host:port as a person writes it, not InetSocketAddress's "localhost/127.0.0.1:8443" or "/127.0.0.1:8443".
            assertThat(c.remoteAddress()).isEqualTo("127.0.0.1:" + mock.httpsUri().getPort());
            assertThat(c.localAddress()).matches("127\\.0\\.0\\.1:\\d+");
        }
    }

    @Test
    void cleartextHttp11HasNoTlsAndNoStreamLimit() {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            HttpRequest ping = HttpRequest.newBuilder(http(mock, "/ping")).build();
            client.sendBlocking(ping);
            ConnectionInfo c = client.connections(ping.route()).get(0);
            assertThat(c.protocol()).isEqualTo(Protocol.HTTP_1_1);
            assertThat(c.secure()).isFalse();
            assertThat(c.cipherSuite()).isNull();
            assertThat(c.peerMaxConcurrentStreams()).isEqualTo(-1);
            assertThat(c.capacity()).isEqualTo(1);
        }
    }

    @Test
    void aRouteWithoutConnectionsAndAClosedClientHaveNone() {
        ConnectionPoolManager client = clientFor(mock).build();
        HttpRequest ping = HttpRequest.newBuilder(https(mock, "/ping")).build();
        assertThat(client.connections(ping.route())).isEmpty();
        client.sendBlocking(ping);
        client.close();
        assertThat(client.connections(ping.route())).isEmpty();
    }

    @Test
    void aRouteSnapshotFromOneCallReadsAsOneLogLine() {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            HttpRequest ping = HttpRequest.newBuilder(https(mock, "/ping")).build();
            assertThat(client.snapshot(ping.route()).toString()).contains("no pool yet").contains("no events");
            client.sendBlocking(ping);
            client.sendBlocking(ping);
            RouteSnapshot s = client.snapshot(ping.route());
            assertThat(s.route()).isEqualTo(ping.route());
            assertThat(s.pool().acquisitions()).isEqualTo(2);
            assertThat(s.connections()).hasSize(s.pool().open());
            assertThat(s.counters().failures()).isEmpty();
            String line = s.toString();
            assertThat(line).doesNotContain("\n").hasSizeLessThan(300)
                    .contains(ping.route().toString()).contains(s.pool().open() + "/" + s.pool().maxConnections() + " open")
                    .contains("0 waiting").contains("h2").endsWith("no events");
            String pool = s.pool().toString();
            assertThat(pool).doesNotContain("\n").startsWith("pool '").contains("acquires 2").contains("wait p50");
        }
    }
}

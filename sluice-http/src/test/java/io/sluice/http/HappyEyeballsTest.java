package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.pool.PoolConfig;
import io.sluice.testkit.MockProvider;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every address of a host, tried with Happy Eyeballs (RFC 8305): a dead first address must cost
 * the attempt delay, not the connect timeout. The dead address is a real black hole on loopback:
 * a listener on 127.0.0.2 whose accept queue is full, so the kernel drops further SYNs and the
 * connect neither succeeds nor fails (the way a firewalled or vanished provider address behaves).
 */
@Timeout(60)
class HappyEyeballsTest {
    private static final Duration CONNECT = Duration.ofSeconds(3);

    private static ConnectionPoolManager client(AddressResolver resolver) {
        return ConnectionPoolManager.builder().resolver(resolver)
                .poolConfig(PoolConfig.builder().minIdle(0).maxRetries(0).connectionTimeout(CONNECT.plusSeconds(2)).build())
                .timeouts(new Timeouts(CONNECT, Duration.ofSeconds(10), Duration.ofSeconds(10), null)).build();
    }

    @Test
    void aBlackHoledFirstAddressCostsTheAttemptDelayNotTheConnectTimeout() throws Exception {
        try (MockProvider mock = MockProvider.start()) {
            int port = mock.httpUri().getPort();
            List<Socket> fillers = new ArrayList<>();
            try (ServerSocket hole = blackHole(InetAddress.getByName("127.0.0.2"), port, fillers)) {
                AddressResolver resolver = AddressResolver.staticHosts(Map.of("api.test",
                        List.of(InetAddress.getByName("127.0.0.2"), InetAddress.getByName("127.0.0.1"))),
                        AddressResolver.system());
                try (ConnectionPoolManager client = client(resolver)) {
                    HttpRequest ping = HttpRequest.newBuilder(URI.create("http://api.test:" + port + "/ping")).build();
                    // Tried one address at a time, the black hole would hold the connect for its 3 s timeout and
                    // the request would fail (no connect retries here).
                    assertThat(client.sendBlocking(ping).status()).isEqualTo(200);
                    assertThat(client.connections(ping.route())).singleElement()
                            .satisfies(c -> assertThat(c.remoteAddress()).isEqualTo("127.0.0.1:" + port));
                    assertThat(client.stats(ping.route()).open()).as("the losing attempt was not kept").isEqualTo(1);
                }
            } finally {
                for (Socket s : fillers) {
                    s.close();
                }
            }
        }
    }

    @Test
    void aRefusedFirstAddressHandsOverAtOnce() throws Exception {
        try (MockProvider mock = MockProvider.start()) {
            int port = mock.httpUri().getPort();
            AddressResolver resolver = AddressResolver.staticHosts(Map.of("api.test",
                    List.of(InetAddress.getByName("127.0.0.3"), InetAddress.getByName("127.0.0.1"))), AddressResolver.system());
            try (ConnectionPoolManager client = client(resolver)) {
                HttpRequest ping = HttpRequest.newBuilder(URI.create("http://api.test:" + port + "/ping")).build();
                assertThat(client.sendBlocking(ping).status()).isEqualTo(200);
            }
        }
    }

    @Test
    void whenEveryAddressFailsTheLastErrorIsTypedAndThePoolIsClean() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort(); // free again once closed: every address refuses
        }
        AddressResolver resolver = AddressResolver.staticHosts(Map.of("api.test",
                List.of(InetAddress.getByName("127.0.0.3"), InetAddress.getByName("127.0.0.1"))), AddressResolver.system());
        try (ConnectionPoolManager client = client(resolver)) {
            HttpRequest ping = HttpRequest.newBuilder(URI.create("http://api.test:" + port + "/ping")).build();
            assertThatThrownBy(() -> client.sendBlocking(ping)).isInstanceOf(ConnectFailedException.class)
                    .hasMessageContaining("refused");
            assertThat(client.stats(ping.route()).open()).isZero();
            assertThat(client.stats(ping.route()).connecting()).isZero();
        }
        AddressResolver unknown = host -> {
            throw new java.net.UnknownHostException(host + " (test resolver)");
        };
        try (ConnectionPoolManager client = client(unknown)) {
            assertThatThrownBy(() -> client.sendBlocking(HttpRequest.newBuilder(URI.create("http://nowhere.test/")).build()))
                    .isInstanceOf(ConnectFailedException.class).hasMessageContaining("cannot resolve host");
        }
    }

    @Test
    void ipv6LoopbackByLiteralAndByName() throws Exception {
        InetAddress v6 = InetAddress.getByName("::1");
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(v6, 0));
            Thread answering = new Thread(() -> answerOk(server), "v6-server");
            answering.setDaemon(true);
            answering.start();
            int port = server.getLocalPort();
            AddressResolver resolver = AddressResolver.staticHosts(Map.of("v6.test",
                    List.of(v6, InetAddress.getByName("127.0.0.3"))), AddressResolver.system());
            try (ConnectionPoolManager client = client(resolver)) {
                assertThat(client.sendBlocking(HttpRequest.newBuilder(URI.create("http://[::1]:" + port + "/")).build())
                        .bodyAsString()).isEqualTo("ok");
                HttpRequest byName = HttpRequest.newBuilder(URI.create("http://v6.test:" + port + "/")).build();
                // The listener is bound to ::1 alone: an answer means the IPv6 address was dialled.
                assertThat(client.sendBlocking(byName).bodyAsString()).isEqualTo("ok");
            }
        }
    }

    /**
     * A listener whose accept queue is full: the kernel drops further SYNs to it, so connects there
     * hang (a black hole), on loopback and without privileges.
     */
    private static ServerSocket blackHole(InetAddress address, int port, List<Socket> fillers) throws Exception {
        ServerSocket hole = new ServerSocket();
        hole.bind(new InetSocketAddress(address, port), 1);
        for (int i = 0; i < 16; i++) {
            Socket s = new Socket();
            try {
                s.connect(new InetSocketAddress(address, port), 300);
                fillers.add(s);
            } catch (SocketTimeoutException full) {
                s.close();
                return hole; // this SYN was dropped: the queue is full
            }
        }
        hole.close();
        throw new IllegalStateException("could not fill the accept queue of " + address + ":" + port);
    }

    private static void answerOk(ServerSocket server) {
        while (!server.isClosed()) {
            try (Socket s = server.accept()) {
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                byte[] buf = new byte[4096];
                StringBuilder head = new StringBuilder();
                while (!head.toString().contains("\r\n\r\n")) {
                    int n = in.read(buf);
                    if (n < 0) {
                        break;
                    }
                    head.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                }
                out.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            } catch (Exception e) {
                return;
            }
        }
    }
}

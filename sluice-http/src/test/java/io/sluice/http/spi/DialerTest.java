package io.sluice.http.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerAdapter;
import io.netty.handler.ssl.SslContext;
import io.sluice.http.ConnectFailedException;
import io.sluice.http.TlsOptions;
import io.sluice.testkit.adversary.SilentPeer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The shared dialer on real loopback sockets: who owns the channel on success, cancel and failure. */
class DialerTest {

    private static NettyTransport transport;
    private static ExecutorService dns;

    @BeforeAll
    static void start() {
        transport = new NettyTransport(1, false, Duration.ofSeconds(30));
        dns = Executors.newCachedThreadPool();
    }

    @AfterAll
    static void stop() {
        transport.close();
        dns.shutdownNow();
    }

    @Test
    void aCleartextDialCompletesWithTheConnectedChannelWithTheCallersHandlers() throws Exception {
        try (SilentPeer peer = SilentPeer.start()) {
            Dialer.Dial dial = new Dialer(transport, dns).dial("test", "127.0.0.1", peer.port(), null,
                    ch -> ch.pipeline().addLast("mine", new ChannelHandlerAdapter() { }));
            Channel ch = dial.get(5, TimeUnit.SECONDS);
            assertThat(ch.isActive()).isTrue();
            assertThat(ch.pipeline().get("mine")).isNotNull();
            assertThat(ch.pipeline().get("tls")).isNull();
            assertThat(dial.stage()).isEqualTo(Dialer.Stage.DONE);
            // a completed dial's channel is the caller's: the dial does not close it
            assertThat(peer.closedByClient()).isZero();
            ch.close();
            assertThat(peer.awaitClosedByClient(1, Duration.ofSeconds(10))).isTrue();
        }
    }

    /** What a connector's timer does when it fires: the dial ends and its channel is closed. */
    @Test
    void cancellingADialDuringTheTlsHandshakeClosesItsChannel() throws Exception {
        SslContext tls = SslContextFactory.build(TlsOptions.defaults());
        try (SilentPeer peer = SilentPeer.start()) {
            Dialer.Dial dial = new Dialer(transport, dns).dial("test", "127.0.0.1", peer.port(), tls, ch -> { });
            await().atMost(Duration.ofSeconds(5)).until(() -> dial.stage() == Dialer.Stage.TLS
                    && peer.bytesReceived() > 0); // the ClientHello went out, no answer comes
            assertThat(dial.cancel(false)).isTrue();
            assertThat(peer.awaitClosedByClient(1, Duration.ofSeconds(10)))
                    .as("the cancelled dial closed its socket").isTrue();
            await().atMost(Duration.ofSeconds(5)).until(() -> !dial.channel().isOpen());
            assertThatThrownBy(() -> dial.get(1, TimeUnit.SECONDS)).isInstanceOf(CancellationException.class);
        }
    }

    @Test
    void aDialEndedDuringDnsNeverOpensAConnection() throws Exception {
        ConcurrentLinkedQueue<Runnable> held = new ConcurrentLinkedQueue<>();
        try (SilentPeer peer = SilentPeer.start()) {
            Dialer.Dial dial = new Dialer(transport, held::add).dial("test", "localhost", peer.port(), null, ch -> { });
            assertThat(dial.stage()).isEqualTo(Dialer.Stage.DNS);
            dial.cancel(false);
            held.forEach(Runnable::run); // the look-up finishes after the dial ended
            assertThat(dial.channel()).isNull();
            Thread.sleep(100); // a connect would be on its way by now
            assertThat(peer.connections()).isZero();
        }
    }

    @Test
    void aRefusedConnectFailsTheDialAtTheTcpStage() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        Dialer.Dial dial = new Dialer(transport, dns).dial("test", "127.0.0.1", port, null, ch -> { });
        assertThatThrownBy(() -> dial.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(java.net.ConnectException.class); // the caller types it
        assertThat(dial.stage()).isEqualTo(Dialer.Stage.TCP);
        await().atMost(Duration.ofSeconds(5)).until(() -> !dial.channel().isOpen());
    }

    /**
     * A dial started as the client closes, on event loops already shut down: the loop refuses the channel's
     * registration and fails the connect future at once, and Netty then drops the notification of a listener
     * added to it (it would run on that loop). The dial never completed; its caller's timer, on a scheduler
     * the close shuts down too, was the only thing left to end it.
     */
    @Test
    void aDialOnAShutDownTransportFailsInsteadOfNeverCompleting() throws Exception {
        NettyTransport closed = new NettyTransport(1, false, Duration.ofSeconds(30));
        closed.close();
        try (SilentPeer peer = SilentPeer.start()) {
            Dialer.Dial dial = new Dialer(closed, dns).dial("test", "127.0.0.1", peer.port(), null, ch -> { });
            assertThatThrownBy(() -> dial.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
            assertThat(dial.stage()).isEqualTo(Dialer.Stage.TCP);
            assertThat(dial.channel().isOpen()).isFalse();
            assertThat(peer.connections()).isZero();
        }
    }

    @Test
    void aShutDownDnsExecutorFailsTheDialInsteadOfThrowing() {
        Dialer.Dial dial = new Dialer(transport, task -> {
            throw new java.util.concurrent.RejectedExecutionException("closing");
        }).dial("test", "example.invalid", 443, null, ch -> { });
        assertThatThrownBy(() -> dial.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(ConnectFailedException.class);
        assertThat(dial.channel()).isNull();
    }

    @org.junit.jupiter.api.Test
    void theFamiliesAreInterleavedStartingWithTheResolversFirst() throws Exception {
        java.net.InetSocketAddress a4 = new java.net.InetSocketAddress(java.net.InetAddress.getByName("192.0.2.1"), 443);
        java.net.InetSocketAddress b4 = new java.net.InetSocketAddress(java.net.InetAddress.getByName("192.0.2.2"), 443);
        java.net.InetSocketAddress a6 = new java.net.InetSocketAddress(java.net.InetAddress.getByName("2001:db8::1"), 443);
        java.net.InetSocketAddress b6 = new java.net.InetSocketAddress(java.net.InetAddress.getByName("2001:db8::2"), 443);
        org.assertj.core.api.Assertions.assertThat(Dialer.interleaveFamilies(java.util.List.of(a6, b6, a4, b4)))
                .containsExactly(a6, a4, b6, b4);
        org.assertj.core.api.Assertions.assertThat(Dialer.interleaveFamilies(java.util.List.of(a4, b4, a6)))
                .containsExactly(a4, a6, b4);
    }
}

package io.sluice.http.spi;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.sluice.http.AddressResolver;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review 5 (d707e57): an attempt that {@code Race.startNext} opens on one event loop while another
 * loop's attempt wins is never closed. startNext checks {@code won} under the lock, then opens the
 * channel and only afterwards adds it to {@code channels}; the winner snapshots {@code channels}
 * as its losers in between, and the post-add check only closes the channel when the dial ended
 * exceptionally. An address that neither connects nor fails (CONNECT_TIMEOUT_MILLIS is 0) then
 * keeps its socket and channel for ever, after the dial completed successfully.
 *
 * <p>The interleaving is made deterministic with the caller's initializer (which Netty runs inline
 * in {@code connect()} when the new channel registers on the calling loop): two event loops,
 * addresses [black hole, live, black hole]; attempt 1 starts on loop 0, attempt 2 on loop 1 after
 * 250 ms; attempt 1 then fails (here: closed from attempt 2's initializer, standing in for an RST
 * or ICMP error arriving at that moment), so attempt 3 is opened from loop 0 on loop 0, and its
 * initializer holds loop 0 until attempt 2 (loop 1) has won and the dial has completed.
 */
@Timeout(30)
class Review5DialerRaceTest {

    @Test
    void anAttemptOpenedWhileAnotherLoopsAttemptWinsIsClosed() throws Exception {
        NettyTransport transport = new NettyTransport(2, false, Duration.ofSeconds(30));
        ExecutorService dns = Executors.newSingleThreadExecutor();
        List<Socket> fillers = new ArrayList<>();
        List<Channel> attempts = new CopyOnWriteArrayList<>();
        try (ServerSocket live = new ServerSocket()) {
            live.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 50);
            int port = live.getLocalPort();
            try (ServerSocket hole1 = blackHole(InetAddress.getByName("127.0.0.2"), port, fillers);
                 ServerSocket hole3 = blackHole(InetAddress.getByName("127.0.0.4"), port, fillers)) {
                AddressResolver resolver = AddressResolver.staticHosts(Map.of("he.test", List.of(
                        InetAddress.getByName("127.0.0.2"), InetAddress.getByName("127.0.0.1"),
                        InetAddress.getByName("127.0.0.4"))), AddressResolver.system());
                Dialer dialer = new Dialer(transport, dns, resolver, null);
                Dialer.Dial[] holder = new Dialer.Dial[1];
                Object ready = new Object();
                Dialer.Dial dial;
                synchronized (ready) {
                    dial = dialer.dial("test", "he.test", port, null, ch -> {
                        attempts.add(ch);
                        if (attempts.size() == 2) {
                            attempts.get(0).close(); // attempt 1 fails now: attempt 3 starts on attempt 1's loop
                        } else if (attempts.size() == 3) {
                            Dialer.Dial d;
                            synchronized (ready) {
                                d = holder[0];
                            }
                            try {
                                d.get(5, TimeUnit.SECONDS); // attempt 2 (the other loop) wins meanwhile
                            } catch (Exception e) {
                                throw new IllegalStateException(e);
                            }
                        }
                    });
                    holder[0] = dial;
                }
                Channel winner = dial.get(10, TimeUnit.SECONDS);
                assertThat(((InetSocketAddress) winner.remoteAddress()).getAddress().getHostAddress())
                        .isEqualTo("127.0.0.1");
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                while (attempts.size() < 3 && System.nanoTime() < until) {
                    Thread.sleep(10);
                }
                assertThat(attempts).as("one attempt per address").hasSize(3);
                Channel third = attempts.get(2);
                until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                while (third.isOpen() && System.nanoTime() < until) {
                    Thread.sleep(20);
                }
                assertThat(third.isOpen()).as("the attempt opened while another won (to " + third
                        + ") is closed once the dial completed with " + winner).isFalse();
                winner.close();
            }
        } finally {
            for (Channel ch : attempts) {
                ch.close();
            }
            for (Socket s : fillers) {
                s.close();
            }
            transport.close();
            dns.shutdownNow();
        }
    }

    /** A listener whose accept queue is full: further SYNs are dropped, connects there hang (as HappyEyeballsTest). */
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
                return hole;
            }
        }
        hole.close();
        throw new IllegalStateException("could not fill the accept queue of " + address + ":" + port);
    }
}

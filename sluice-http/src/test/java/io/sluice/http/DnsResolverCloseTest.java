package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review 6: {@link DnsResolver} closed while a look-up is in flight. "Look-ups after this fail"; one in flight
 * must fail too, not block its (DNS executor) thread for the backstop of 4 x the query timeout + 1 s.
 */
@Timeout(60)
class DnsResolverCloseTest {

    @Test
    void aLookUpInFlightWhenTheResolverClosesFailsPromptly() throws Exception {
        try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            CountDownLatch asked = new CountDownLatch(1);
            Thread listener = new Thread(() -> {
                try {
                    silent.receive(new DatagramPacket(new byte[512], 512));
                    asked.countDown(); // and never answer
                } catch (java.io.IOException closed) {
                    // socket closed at the end of the test
                }
            });
            listener.setDaemon(true);
            listener.start();
            DnsResolver resolver = DnsResolver.builder()
                    .nameServers((InetSocketAddress) silent.getLocalSocketAddress())
                    .queryTimeout(Duration.ofSeconds(30)).build(); // backstop: 121 s
            CompletableFuture<Object> lookUp = CompletableFuture.supplyAsync(() -> {
                try {
                    return resolver.resolve("api.provider.test");
                } catch (Throwable e) {
                    return e;
                }
            });
            assertThat(asked.await(10, TimeUnit.SECONDS)).as("the query reached the server").isTrue();
            resolver.close();
            Object out;
            try {
                out = lookUp.get(15, TimeUnit.SECONDS); // a hang bound, far below the 121 s backstop
            } catch (TimeoutException hung) {
                out = "still blocked 15 s after close()";
            }
            assertThat(out).isInstanceOf(UnknownHostException.class);
        }
    }

    @Test
    void aLookUpAfterCloseFailsWithUnknownHostException() {
        DnsResolver resolver = DnsResolver.builder()
                .nameServers(new InetSocketAddress(InetAddress.getLoopbackAddress(), 53))
                .queryTimeout(Duration.ofSeconds(2)).build();
        resolver.close();
        Object out;
        try {
            out = resolver.resolve("api.provider.test");
        } catch (Throwable e) {
            out = e;
        }
        assertThat(out).isInstanceOf(UnknownHostException.class);
    }
}

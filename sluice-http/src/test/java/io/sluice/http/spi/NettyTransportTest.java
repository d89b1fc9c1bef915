package io.sluice.http.spi;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.TlsOptions;
import io.sluice.testkit.MockProvider;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Which I/O transport the client runs on, and that each one it can pick here carries real requests. */
class NettyTransportTest {

    @Test
    void choosesTheRequestedTransportWhenAvailableAndFallsBackOtherwise() {
        NettyTransport.Kind native0 = Epoll.isAvailable() ? NettyTransport.Kind.EPOLL : NettyTransport.Kind.NIO;
        assertThat(NettyTransport.choose(true, null)).isEqualTo(native0);
        assertThat(NettyTransport.choose(false, null)).isEqualTo(NettyTransport.Kind.NIO);
        assertThat(NettyTransport.choose(true, "nio")).isEqualTo(NettyTransport.Kind.NIO);
        assertThat(NettyTransport.choose(true, "EPOLL")).isEqualTo(native0);
        assertThat(NettyTransport.choose(true, "no-such-transport")).isEqualTo(native0);
        assertThat(NettyTransport.choose(true, "io_uring"))
                .isEqualTo(IoUring.isAvailable() ? NettyTransport.Kind.IO_URING : native0);
    }

    @Test
    @Timeout(60)
    void everyTransportAvailableHereCarriesHttp2OverTls() throws Exception {
        try (MockProvider mock = MockProvider.start()) {
            for (String kind : new String[] {"io_uring", "epoll", "nio"}) {
                String before = System.getProperty(NettyTransport.TRANSPORT_PROPERTY);
                System.setProperty(NettyTransport.TRANSPORT_PROPERTY, kind);
                ConnectionPoolManager client;
                try {
                    client = ConnectionPoolManager.builder()
                            .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build())
                            .preferNativeTransport(!kind.equals("nio")).build();
                } finally {
                    if (before == null) {
                        System.clearProperty(NettyTransport.TRANSPORT_PROPERTY);
                    } else {
                        System.setProperty(NettyTransport.TRANSPORT_PROPERTY, before);
                    }
                }
                try (client) {
                    for (int i = 0; i < 20; i++) {
                        HttpResponse r = client.send(HttpRequest.newBuilder(mock.httpsUri().resolve("/v1/chat/completions"))
                                .POST("{\"model\":\"m\",\"messages\":[]}").header("content-type", "application/json")
                                .build()).get(10, TimeUnit.SECONDS);
                        assertThat(r.status()).as(kind).isEqualTo(200);
                        assertThat(r.protocol()).as(kind).isEqualTo(io.sluice.http.Protocol.H2);
                    }
                }
            }
        }
    }
}

package io.sluice.http.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** ConnectionInfo's addresses read as a person writes them: ip:port, [ipv6]:port, no "host/" prefix. */
class HostPortTest {
    @Test
    void formatsIpv4Ipv6AndUnresolvedAddresses() throws Exception {
        assertThat(HttpConnection.hostPort(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 8443)))
                .isEqualTo("127.0.0.1:8443");
        assertThat(HttpConnection.hostPort(new InetSocketAddress(InetAddress.getByAddress("localhost",
                new byte[] {127, 0, 0, 1}), 443))).isEqualTo("127.0.0.1:443");
        // IPv6 in RFC 5952's short form, in brackets, without a scope id
        assertThat(HttpConnection.hostPort(new InetSocketAddress(InetAddress.getByName("::1"), 443)))
                .isEqualTo("[::1]:443");
        assertThat(HttpConnection.hostPort(new InetSocketAddress(InetAddress.getByName("2001:db8:0:0:0:0:0:1"), 443)))
                .isEqualTo("[2001:db8::1]:443");
        assertThat(HttpConnection.hostPort(InetSocketAddress.createUnresolved("api.openai.com", 443)))
                .isEqualTo("api.openai.com:443");
        assertThat(HttpConnection.hostPort(null)).isEqualTo("null");
    }
}

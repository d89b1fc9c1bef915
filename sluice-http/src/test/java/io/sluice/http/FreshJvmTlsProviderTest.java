package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * In a JVM where nothing touched Netty's OpenSSL classes before the client, the client must
 * still pick BoringSSL: class-initialisation order once made tcnative fail to load and every
 * client silently fall back to the JDK engine.
 */
class FreshJvmTlsProviderTest {

    /** Run in the child JVM: builds a client as the first thing and prints its TLS engine. */
    public static final class Child {
        public static void main(String[] args) {
            try (ConnectionPoolManager client = ConnectionPoolManager.builder().build()) {
                System.out.println("provider=" + client.tlsProvider());
            }
            System.out.println("available=" + io.netty.handler.ssl.OpenSsl.isAvailable());
        }
    }

    @Test
    void aFreshJvmsFirstClientUsesBoringSsl() throws Exception {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Child.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out).as(out).contains("available=true").contains("provider=OPENSSL");
    }
}

package io.sluice.http;

import static io.sluice.http.HttpTestSupport.assertNoLeasesOut;
import static io.sluice.http.HttpTestSupport.chat;
import static io.sluice.http.HttpTestSupport.clientFor;
import static io.sluice.http.HttpTestSupport.http;
import static io.sluice.http.HttpTestSupport.https;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.ssl.OpenSsl;
import io.sluice.testkit.MockProvider;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@ExtendWith(MockProviderExtension.class)
class ProtocolNegotiationTest {

    @InjectMock
    static MockProvider mock;

    @Test
    void plainHttpSpeaksHttp11AndReusesTheConnection() {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            mock.resetCounters();
            for (int i = 0; i < 5; i++) {
                HttpResponse r = client.sendBlocking(HttpRequest.newBuilder(http(mock, "/ping")).build());
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.protocol()).isEqualTo(Protocol.HTTP_1_1);
                assertThat(r.bodyAsString()).contains("pong");
            }
            HttpResponse post = client.sendBlocking(chat(http(mock, "/v1/chat/completions"), false));
            assertThat(post.status()).isEqualTo(200);
            assertThat(post.bodyAsString()).contains("chat.completion");
            assertThat(mock.stats().connectionsAccepted()).isEqualTo(1);
            assertNoLeasesOut(client);
        }
    }

    @Test
    void h2cPriorKnowledgeSpeaksHttp2OnPlainHttp() {
        try (ConnectionPoolManager client = clientFor(mock).h2cPriorKnowledge(true).build()) {
            mock.resetCounters();
            HttpResponse r = client.sendBlocking(chat(http(mock, "/v1/chat/completions"), false));
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.protocol()).isEqualTo(Protocol.H2);
            assertThat(mock.stats().http2Connections()).isEqualTo(1);
            assertNoLeasesOut(client);
        }
    }

    @ParameterizedTest
    @EnumSource(value = TlsOptions.Provider.class, names = {"OPENSSL", "JDK"})
    void tlsNegotiatesHttp2ByAlpnWithEitherProvider(TlsOptions.Provider provider) {
        if (provider == TlsOptions.Provider.OPENSSL) {
            assertThat(OpenSsl.isAvailable()).as("netty-tcnative must load on this platform").isTrue();
        }
        try (ConnectionPoolManager client = clientFor(mock)
                .tls(TlsOptions.builder().provider(provider).trustCertificatePem(mock.certificatePem()).build())
                .build()) {
            assertThat(client.tlsProvider()).isEqualTo(provider.name());
            HttpResponse r = client.sendBlocking(chat(https(mock, "/v1/chat/completions"), false));
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.protocol()).isEqualTo(Protocol.H2);
            assertThat(r.bodyAsString()).contains("chat.completion");
            HttpResponse again = client.sendBlocking(HttpRequest.newBuilder(https(mock, "/generate_204")).build());
            assertThat(again.status()).isEqualTo(204);
            assertThat(client.tlsStats().fullHandshakes()).isEqualTo(1);
            assertNoLeasesOut(client);
        }
    }

    @Test
    void tlsSessionsAreResumedAcrossConnections() {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            mock.resetCounters();
            Route route = Route.of(https(mock, "/"));
            client.sendBlocking(HttpRequest.newBuilder(https(mock, "/ping")).build());
            client.pool(route).closeIdleConnections();
            client.sendBlocking(HttpRequest.newBuilder(https(mock, "/ping")).build());
            assertThat(mock.stats().tlsHandshakesResumed()).as("server saw a resumed handshake").isEqualTo(1);
            assertThat(client.tlsStats().resumedHandshakes()).as("client recorded it as resumed").isEqualTo(1);
            assertNoLeasesOut(client);
        }
    }
}

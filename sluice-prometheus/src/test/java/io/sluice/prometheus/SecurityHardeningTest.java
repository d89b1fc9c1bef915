package io.sluice.prometheus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.AppenderBase;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.InvalidRequestException;
import io.sluice.http.Route;
import io.sluice.http.TlsOptions;
import io.sluice.prometheus.PrometheusMetrics;
import io.sluice.pool.PoolConfig;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import io.sluice.websocket.WebSocketLease;
import io.sluice.websocket.WebSocketPool;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Lives here, in the module that depends on the client, the WebSocket pool and the exposition, because it
 * checks all of them at once.
 *
 * Security hardening: TLS defaults, secrets kept out of everything observable, request validation, mock binding. */
class SecurityHardeningTest {

    private static final String BEARER_KEY = "sk-proj-BEARERSECRET0123456789";
    private static final String X_API_KEY = "sk-ant-XAPISECRET0123456789";
    private static final String AZURE_KEY = "azureAPIKEYSECRET0123456789";
    private static final String QUERY_KEY = "AIzaQUERYSECRET0123456789";
    private static final String[] SECRETS = {BEARER_KEY, X_API_KEY, AZURE_KEY, QUERY_KEY};

    /** Captures every event (message, arguments, throwable chain) of io.sluice and io.netty at TRACE. */
    private static final class Capture extends AppenderBase<ILoggingEvent> {
        final List<String> text = new CopyOnWriteArrayList<>();

        @Override
        protected void append(ILoggingEvent e) {
            StringBuilder sb = new StringBuilder(e.getLoggerName()).append(' ').append(e.getFormattedMessage());
            for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
                sb.append(" | ").append(t.getClassName()).append(": ").append(t.getMessage());
            }
            text.add(sb.toString());
        }
    }

    @Test
    void noKeyAppearsInLogsExceptionsToStringOrMetrics() throws Exception {
        Capture capture = new Capture();
        List<Logger> loggers = List.of((Logger) LoggerFactory.getLogger("io.sluice"), (Logger) LoggerFactory.getLogger("io.netty"));
        List<Level> before = new ArrayList<>();
        for (Logger l : loggers) {
            before.add(l.getLevel());
            l.setLevel(Level.TRACE);
            capture.setContext(l.getLoggerContext());
            l.addAppender(capture);
        }
        capture.start();
        List<String> observed = new ArrayList<>();
        try (MockProvider mock = MockProvider.start(MockOptions.builder().requiredApiKey(BEARER_KEY).build());
             ConnectionPoolManager client = ConnectionPoolManager.builder()
                     .poolConfig(PoolConfig.builder().minIdle(0).maxRetries(0).build())
                     .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build()).build();
             ConnectionPoolManager untrusting = ConnectionPoolManager.builder()
                     .poolConfig(PoolConfig.builder().minIdle(0).maxRetries(0).build()).build()) {
            for (URI base : List.of(mock.httpsUri(), mock.httpUri())) {
                HttpRequest ok = HttpRequest.newBuilder(base.resolve("/v1/chat/completions?api_key=" + QUERY_KEY))
                        .POST("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                        .header("authorization", "Bearer " + BEARER_KEY).header("x-api-key", X_API_KEY)
                        .header("api-key", AZURE_KEY).build();
                HttpResponse r = client.sendBlocking(ok);
                observed.add(ok.toString());
                observed.add(r.toString());
                observed.add(r.headers().toString());
                HttpRequest wrongKey = ok.toBuilder().setHeader("authorization", "Bearer " + X_API_KEY)
                        .setHeader("x-api-key", AZURE_KEY).build();
                observed.add(String.valueOf(client.sendBlocking(wrongKey).status())); // 401 from the mock
                observed.add(client.sendBlocking(wrongKey).bodyAsString().contains(X_API_KEY) ? "" : "body-ok");
                HttpRequest timeout = ok.toBuilder().header("x-mock-blackhole", "true")
                        .headersTimeout(Duration.ofMillis(200)).build();
                collect(observed, () -> client.sendBlocking(timeout));
                HttpRequest reset = ok.toBuilder().uri(base.resolve("/v1/chat/completions?stream=1&key=" + QUERY_KEY))
                        .header("x-mock-close-after-bytes", "10").build();
                collect(observed, () -> client.sendBlocking(reset));
            }
            collect(observed, () -> untrusting.sendBlocking(HttpRequest.newBuilder(
                    mock.httpsUri().resolve("/v1/models?api_key=" + QUERY_KEY)).header("authorization", "Bearer " + BEARER_KEY)
                    .build())); // TLS failure
            try (WebSocketPool ws = WebSocketPool.builder(mock.wsUri()).header("Authorization", "Bearer " + BEARER_KEY)
                    .build()) {
                try (WebSocketLease lease = ws.acquire().get(10, TimeUnit.SECONDS)) {
                    observed.add(lease.toString());
                    observed.add(lease.connection().toString());
                }
                observed.add(ws.toString());
                observed.add(ws.stats().toString());
            }
            try (WebSocketPool wsBad = WebSocketPool.builder(mock.wsUri()).header("Authorization", "Bearer " + X_API_KEY)
                    .build()) {
                collect(observed, () -> wsBad.acquire().join()); // refused upgrade (401)
            }
            for (Route route : client.routes()) {
                observed.add(client.stats(route).toString());
                observed.add(client.pool(route).toString());
            }
            observed.add(new PrometheusMetrics().client(client).scrape());
        } finally {
            for (int i = 0; i < loggers.size(); i++) {
                loggers.get(i).detachAppender(capture);
                loggers.get(i).setLevel(before.get(i));
            }
            capture.stop();
        }
        assertThat(capture.text).as("something was logged at all").isNotEmpty();
        for (String secret : SECRETS) {
            assertThat(capture.text).as("log lines").noneMatch(l -> l.contains(secret));
            assertThat(observed).as("exception messages, toString, metrics").noneMatch(s -> s.contains(secret));
        }
    }

    /** Runs {@code r}, which must fail, and records the failure's message and every cause's message and toString. */
    private static void collect(List<String> out, Runnable r) {
        try {
            r.run();
            out.add("no failure");
        } catch (RuntimeException e) {
            for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
                out.add(String.valueOf(t.getMessage()));
                out.add(t.toString());
                for (Throwable s : t.getSuppressed()) {
                    out.add(s.toString());
                }
            }
        }
    }

    /** CR/LF in a header name or value, or an invalid method or URI: refused at build time, nothing sent. */
    @Test
    void injectionIsRejectedBeforeAnythingIsSent() {
        try (MockProvider mock = MockProvider.start(MockOptions.defaults())) {
            URI uri = mock.httpUri().resolve("/v1/models");
            assertThatThrownBy(() -> HttpRequest.newBuilder(uri).header("x-a", "v\r\nx-injected: 1").build())
                    .isInstanceOf(InvalidRequestException.class);
            assertThatThrownBy(() -> HttpRequest.newBuilder(uri).header("x-a", "v\nx-injected: 1").build())
                    .isInstanceOf(InvalidRequestException.class);
            assertThatThrownBy(() -> HttpRequest.newBuilder(uri).header("x-a\r\nx-b", "v").build())
                    .isInstanceOf(InvalidRequestException.class);
            assertThatThrownBy(() -> HttpRequest.newBuilder(uri).method("GET /evil HTTP/1.1\r\n").build())
                    .isInstanceOf(InvalidRequestException.class);
            assertThatThrownBy(() -> HttpRequest.newBuilder(uri).method("").build())
                    .isInstanceOf(InvalidRequestException.class);
            assertThatThrownBy(() -> HttpRequest.newBuilder("ftp://127.0.0.1/x").build())
                    .isInstanceOf(InvalidRequestException.class);
            assertThatThrownBy(() -> HttpRequest.newBuilder(URI.create("/relative")).build())
                    .isInstanceOf(InvalidRequestException.class);
            assertThat(mock.stats().totalRequests()).as("the server saw no request").isZero();
            assertThat(mock.stats().connectionsAccepted()).as("nor a connection").isZero();
        }
    }

    /** Verification is on by default; insecure mode is explicit, connects without the PEM, and warns once. */
    @Test
    void insecureModeIsExplicitAndWarnsOnce() {
        Capture capture = new Capture();
        Logger root = (Logger) LoggerFactory.getLogger("io.sluice");
        capture.setContext(root.getLoggerContext());
        capture.start();
        root.addAppender(capture);
        try (MockProvider mock = MockProvider.start(MockOptions.defaults())) {
            HttpRequest ping = HttpRequest.newBuilder(mock.httpsUri().resolve("/ping")).build();
            assertThat(TlsOptions.defaults().insecure()).isFalse();
            try (ConnectionPoolManager strict = ConnectionPoolManager.builder()
                    .poolConfig(PoolConfig.builder().minIdle(0).maxRetries(0).build()).build()) {
                assertThatThrownBy(() -> strict.sendBlocking(ping)).isInstanceOf(io.sluice.http.TlsFailedException.class);
            }
            for (int i = 0; i < 2; i++) {
                try (ConnectionPoolManager insecure = ConnectionPoolManager.builder()
                        .poolConfig(PoolConfig.builder().minIdle(0).maxRetries(0).build())
                        .tls(TlsOptions.builder().insecure(true).build()).build()) {
                    assertThat(insecure.sendBlocking(ping).status()).isEqualTo(200);
                }
            }
        } finally {
            root.detachAppender(capture);
        }
        // once per JVM: an earlier test class may already have logged it, so at most one here
        assertThat(capture.text.stream().filter(l -> l.contains("verification are OFF")).count()).isLessThanOrEqualTo(1);
    }

    @Test
    void theMockRefusesANonLoopbackAddressUnlessTold() {
        assertThatThrownBy(() -> MockOptions.builder().host("0.0.0.0").build())
                .isInstanceOf(IllegalArgumentException.class);
    }
}

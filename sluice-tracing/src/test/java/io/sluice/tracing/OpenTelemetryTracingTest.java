package io.sluice.tracing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.sluice.http.CallListener;
import io.sluice.http.ConnectFailedException;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.pool.PoolConfig;
import io.sluice.testkit.adversary.AdversaryH2Server;
import io.sluice.testkit.adversary.H2Script;
import io.sluice.tracing.otel.SluiceOpenTelemetry;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Each request as an OpenTelemetry span, seen from both ends: the exported span (kind, name, the HTTP
 * client semantic conventions, events, status) and the {@code traceparent} the server received on every
 * attempt, which must name that span as its parent. A server answering 503 then 200, a refusing port,
 * and the no-op SDK (no listener at all).
 */
@Timeout(30)
class OpenTelemetryTracingTest {

    private final InMemorySpanExporter spans = InMemorySpanExporter.create();
    private final SdkTracerProvider tracerProvider = SdkTracerProvider.builder()
            .addSpanProcessor(SimpleSpanProcessor.create(spans)).build();
    private final OpenTelemetry otel = OpenTelemetrySdk.builder().setTracerProvider(tracerProvider)
            .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance())).build();

    @AfterEach
    void close() {
        tracerProvider.close();
    }

    private ConnectionPoolManager client() {
        return SluiceOpenTelemetry.instrument(ConnectionPoolManager.builder().h2cPriorKnowledge(true)
                .poolConfig(PoolConfig.builder().minIdle(0).maxRetries(0).build()), otel).build();
    }

    private List<SpanData> sluiceSpans(int n) {
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> spans.getFinishedSpanItems().stream()
                .filter(s -> s.getInstrumentationScopeInfo().getName().equals(SluiceOpenTelemetry.SCOPE)).count() >= n);
        return spans.getFinishedSpanItems().stream()
                .filter(s -> s.getInstrumentationScopeInfo().getName().equals(SluiceOpenTelemetry.SCOPE)).toList();
    }

    @Test
    void aRetriedCallIsOneClientSpanUnderTheCallersSpanAndEveryAttemptCarriesItsContext() {
        H2Script busy = H2Script.stream().headers(503, false, "retry-after", "0").data("busy", true);
        Span parent = otel.getTracer("test").spanBuilder("handler").startSpan();
        try (AdversaryH2Server server = AdversaryH2Server.builder().scripts(busy, H2Script.ok()).start();
             ConnectionPoolManager client = client()) {
            try (Scope ignored = parent.makeCurrent()) {
                assertThat(client.sendBlocking(HttpRequest.newBuilder(server.uri().resolve("/v1/models?api_key=sk-secret"))
                        .POST("{}").build()).status()).isEqualTo(200);
            }
            SpanData span = sluiceSpans(1).get(0);
            assertThat(span.getKind()).isEqualTo(SpanKind.CLIENT);
            assertThat(span.getName()).isEqualTo("POST");
            assertThat(span.getParentSpanId()).as("the caller's span is the parent").isEqualTo(parent.getSpanContext().getSpanId());
            assertThat(span.getTraceId()).isEqualTo(parent.getSpanContext().getTraceId());
            assertThat(span.getAttributes().get(AttributeKey.stringKey("http.request.method"))).isEqualTo("POST");
            assertThat(span.getAttributes().get(AttributeKey.stringKey("server.address"))).isEqualTo(server.uri().getHost());
            assertThat(span.getAttributes().get(AttributeKey.longKey("server.port"))).isEqualTo(server.uri().getPort());
            assertThat(span.getAttributes().get(AttributeKey.longKey("http.response.status_code"))).isEqualTo(200);
            assertThat(span.getAttributes().get(AttributeKey.stringKey("network.protocol.version"))).isEqualTo("2");
            assertThat(span.getAttributes().get(AttributeKey.longKey("http.request.resend_count"))).isEqualTo(1);
            assertThat(span.getAttributes().get(AttributeKey.stringKey("url.full"))).contains("/v1/models")
                    .doesNotContain("sk-secret");
            assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
            assertThat(span.getEvents()).extracting(EventData::getName)
                    .containsSubsequence("sluice.connection_setup", "sluice.acquire", "sluice.status_retry", "sluice.acquire",
                            "sluice.first_byte");
            String expected = "00-" + span.getTraceId() + "-" + span.getSpanId() + "-"
                    + span.getSpanContext().getTraceFlags().asHex();
            assertThat(server.stream(1).headers().get("traceparent")).containsExactly(expected);
            assertThat(server.stream(2).headers().get("traceparent")).as("the retry carries it too").containsExactly(expected);
        } finally {
            parent.end();
        }
    }

    @Test
    void aFailedCallIsAnErrorSpanWithItsErrorType() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        try (ConnectionPoolManager client = client()) {
            assertThatThrownBy(() -> client.sendBlocking(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + closedPort + "/v1/models")).build()))
                    .isInstanceOf(ConnectFailedException.class);
        }
        SpanData span = sluiceSpans(1).get(0);
        assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(span.getAttributes().get(AttributeKey.stringKey("error.type")))
                .isEqualTo(ConnectFailedException.class.getName());
        assertThat(span.getAttributes().get(AttributeKey.stringKey("sluice.phase"))).isEqualTo("ACQUIRE");
        assertThat(span.getEvents()).extracting(EventData::getName).contains("exception");
    }

    @Test
    void a4xxAnswerIsAnErrorSpanNamedByItsStatus() {
        try (AdversaryH2Server server = AdversaryH2Server.builder()
                .defaultScript(H2Script.stream().headers(404, false).data("no such model", true)).start();
             ConnectionPoolManager client = client()) {
            assertThat(client.sendBlocking(HttpRequest.newBuilder(server.uri().resolve("/v1/models/x")).build()).status())
                    .isEqualTo(404);
        }
        SpanData span = sluiceSpans(1).get(0);
        assertThat(span.getAttributes().get(AttributeKey.stringKey("error.type"))).isEqualTo("404");
        assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    }

    @Test
    void theNoopSdkAddsNoListener() {
        CallListener.Factory f = SluiceOpenTelemetry.tracing(OpenTelemetry.noop());
        HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:1/")).build();
        assertThat(f.create(r.route(), r)).isSameAs(CallListener.NONE);
    }
}

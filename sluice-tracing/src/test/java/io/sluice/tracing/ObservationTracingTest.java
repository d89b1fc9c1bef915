package io.sluice.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistryAssert;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingSenderTracingObservationHandler;
import io.micrometer.tracing.otel.bridge.OtelBaggageManager;
import io.micrometer.tracing.otel.bridge.OtelCurrentTraceContext;
import io.micrometer.tracing.otel.bridge.OtelPropagator;
import io.micrometer.tracing.otel.bridge.OtelTracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.sluice.http.CallListener;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.pool.PoolConfig;
import io.sluice.testkit.adversary.AdversaryH2Server;
import io.sluice.testkit.adversary.H2Script;
import io.sluice.tracing.micrometer.DefaultSluiceObservationConvention;
import io.sluice.tracing.micrometer.SluiceObservations;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Each request as a Micrometer Observation: its name and keys (Micrometer's test registry checks the
 * observation was started and stopped exactly once), and, with Micrometer Tracing's OpenTelemetry bridge
 * set up as Spring Boot sets it up, the span it becomes and the {@code traceparent} the server receives
 * on every attempt. The no-op registry adds no listener.
 */
@Timeout(30)
class ObservationTracingTest {

    private static ConnectionPoolManager client(ObservationRegistry registry) {
        return SluiceObservations.instrument(ConnectionPoolManager.builder().h2cPriorKnowledge(true)
                .poolConfig(PoolConfig.builder().minIdle(0).maxRetries(0).build()), registry).build();
    }

    @Test
    void aCallIsOneObservationWithTheHttpClientKeys() {
        TestObservationRegistry registry = TestObservationRegistry.create();
        H2Script busy = H2Script.stream().headers(429, false, "retry-after", "0").data("slow down", true);
        try (AdversaryH2Server server = AdversaryH2Server.builder().scripts(busy, H2Script.ok()).start();
             ConnectionPoolManager client = client(registry)) {
            assertThat(client.sendBlocking(HttpRequest.newBuilder(server.uri().resolve("/v1/chat/completions?key=sk-x"))
                    .POST("{}").build()).status()).isEqualTo(200);
            TestObservationRegistryAssert.assertThat(registry)
                    .hasObservationWithNameEqualTo(DefaultSluiceObservationConvention.NAME).that()
                    .hasBeenStarted().hasBeenStopped().hasContextualNameEqualTo("POST")
                    .hasLowCardinalityKeyValue("http.request.method", "POST")
                    .hasLowCardinalityKeyValue("server.address", server.uri().getHost())
                    .hasLowCardinalityKeyValue("server.port", Integer.toString(server.uri().getPort()))
                    .hasLowCardinalityKeyValue("http.response.status_code", "200")
                    .hasLowCardinalityKeyValue("network.protocol.version", "2")
                    .hasLowCardinalityKeyValue("error.type", "none")
                    .hasLowCardinalityKeyValue("outcome", "SUCCESS")
                    .hasHighCardinalityKeyValue("http.request.resend_count", "1")
                    .doesNotHaveError();
            TestObservationRegistryAssert.assertThat(registry).hasNumberOfObservationsEqualTo(1);
        }
    }

    @Test
    void withTheOpenTelemetryBridgeTheServerGetsTheSpansContextOnEveryAttempt() {
        InMemorySpanExporter spans = InMemorySpanExporter.create();
        try (SdkTracerProvider provider = SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans))
                .build()) {
            OpenTelemetrySdk sdk = OpenTelemetrySdk.builder().setTracerProvider(provider)
                    .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance())).build();
            io.opentelemetry.api.trace.Tracer otelTracer = sdk.getTracer("test");
            OtelCurrentTraceContext current = new OtelCurrentTraceContext();
            OtelTracer tracer = new OtelTracer(otelTracer, current, event -> { },
                    new OtelBaggageManager(current, List.of(), List.of()));
            ObservationRegistry registry = ObservationRegistry.create();
            registry.observationConfig().observationHandler(new ObservationHandler.FirstMatchingCompositeObservationHandler(
                    new PropagatingSenderTracingObservationHandler<>(tracer, new OtelPropagator(sdk.getPropagators(), otelTracer)),
                    new DefaultTracingObservationHandler(tracer)));
            H2Script busy = H2Script.stream().headers(503, false, "retry-after", "0").data("busy", true);
            Observation parent = Observation.start("handler", registry);
            try (AdversaryH2Server server = AdversaryH2Server.builder().scripts(busy, H2Script.ok()).start();
                 ConnectionPoolManager client = client(registry)) {
                try (Observation.Scope ignored = parent.openScope()) {
                    assertThat(client.sendBlocking(HttpRequest.newBuilder(server.uri().resolve("/v1/models")).build())
                            .status()).isEqualTo(200);
                }
                parent.stop();
                Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> spans.getFinishedSpanItems().size() >= 2);
                SpanData call = spans.getFinishedSpanItems().stream().filter(s -> s.getName().equals("GET")).findFirst()
                        .orElseThrow();
                SpanData handler = spans.getFinishedSpanItems().stream().filter(s -> s.getName().equals("handler"))
                        .findFirst().orElseThrow();
                assertThat(call.getParentSpanId()).as("the caller's observation is the parent").isEqualTo(handler.getSpanId());
                String expected = "00-" + call.getTraceId() + "-" + call.getSpanId() + "-"
                        + call.getSpanContext().getTraceFlags().asHex();
                assertThat(server.stream(1).headers().get("traceparent")).containsExactly(expected);
                assertThat(server.stream(2).headers().get("traceparent")).containsExactly(expected);
            }
        }
    }

    @Test
    void theNoopRegistryAddsNoListener() {
        CallListener.Factory f = SluiceObservations.observing(ObservationRegistry.NOOP);
        HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:1/")).build();
        assertThat(f.create(r.route(), r)).isSameAs(CallListener.NONE);
    }
}

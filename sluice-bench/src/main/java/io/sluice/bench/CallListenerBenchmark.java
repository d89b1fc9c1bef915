package io.sluice.bench;

import io.sluice.http.CallListener;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.pool.PoolConfig;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What the per-call event listener costs: one request at a time (h2c, {@code GET /ping} on the
 * in-process mock over loopback) with no listener ({@code none}: every event is an empty call on
 * {@link CallListener#NONE}), and with a listener that overrides every event and does nothing
 * ({@code empty}: the events' own cost, the per-call wrapper that guards against listener
 * exceptions included); and with tracing set up but off ({@code otel-noop}: {@code OpenTelemetry.noop()},
 * {@code observation-noop}: {@code ObservationRegistry.NOOP}), whose factories decline every call. Run with {@code -prof gc}: {@code gc.alloc.rate.norm} is the bytes
 * allocated per request, client and in-process server together, so the difference between the two
 * is what listening costs, and {@code none} against an earlier build is what the events cost when
 * nobody listens.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CallListenerBenchmark {

    /** Overrides every event with nothing: what the listener machinery costs on its own. */
    static final class EmptyListener implements CallListener {
        @Override public void callStart(HttpRequest request) { }
        @Override public void acquireStart(int attempt) { }
        @Override public void connectionSetUp(io.sluice.http.ConnectionSetup setup) { }
        @Override public void acquireEnd(long waitNanos, io.sluice.http.ConnectionInfo c, boolean newConnection) { }
        @Override public void requestSending(HttpRequest sent) { }
        @Override public void requestSent() { }
        @Override public void responseHeaders(int status, io.sluice.http.Headers headers, long nanosSinceStart) { }
        @Override public void firstBodyByte(long nanosSinceStart) { }
        @Override public void callEnd(int status, long bodyBytes, long nanosSinceStart) { }
    }

    @Param({"none", "empty", "otel-noop", "observation-noop"})
    public String listener;

    private MockProvider mock;
    private ConnectionPoolManager client;
    private HttpRequest ping;

    @Setup(Level.Trial)
    public void setUp() {
        mock = MockProvider.start(MockOptions.builder().build());
        ConnectionPoolManager.Builder b = ConnectionPoolManager.builder().h2cPriorKnowledge(true)
                .poolConfig(PoolConfig.builder().minIdle(0).maxConnections(1).build());
        switch (listener) {
            case "empty" -> b.callListener(CallListener.Factory.of(new EmptyListener()));
            case "otel-noop" -> io.sluice.tracing.otel.SluiceOpenTelemetry.instrument(b,
                    io.opentelemetry.api.OpenTelemetry.noop());
            case "observation-noop" -> io.sluice.tracing.micrometer.SluiceObservations.instrument(b,
                    io.micrometer.observation.ObservationRegistry.NOOP);
            default -> { }
        }
        client = b.build();
        ping = HttpRequest.newBuilder(mock.httpUri().resolve("/ping")).build();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        client.close();
        mock.close();
    }

    @Benchmark
    public int request() {
        return client.sendBlocking(ping).status();
    }
}

package io.sluice.http.faults;

import static io.sluice.http.faults.FaultSupport.assertAccountingExact;
import static io.sluice.http.faults.FaultSupport.chat;
import static io.sluice.http.faults.FaultSupport.clientFor;
import static io.sluice.http.faults.FaultSupport.failsWithin;
import static io.sluice.http.faults.FaultSupport.within;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.ConnectionLostException;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.LimitExceededException;
import io.sluice.http.ProtocolException;
import io.sluice.http.StreamingResponse;
import io.sluice.http.faults.FaultSupport.Proto;
import io.sluice.testkit.MockProvider;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import java.time.Duration;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Fault matrix row 13 (invalid HTTP/2 frames are in {@link Http2FaultTest}): malformed responses from the mock. */
@ExtendWith(MockProviderExtension.class)
class MalformedResponseFaultTest {

    private static final Duration DEADLINE = Duration.ofSeconds(10);
    @InjectMock
    static MockProvider mock;

    @ParameterizedTest
    @EnumSource(Proto.class)
    void row13_oversizedHeaderBlock(Proto p) {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            HttpRequest req = HttpRequest.newBuilder(p.uri(mock, "/ping")).header("x-mock-malformed", "oversized-headers")
                    .build();
            LimitExceededException e = failsWithin(client.send(req), DEADLINE, LimitExceededException.class);
            assertThat(e.limit()).isEqualTo(LimitExceededException.Limit.HEADER_BLOCK);
            assertAccountingExact(client);
            assertThat(within(client.send(HttpRequest.newBuilder(p.uri(mock, "/ping")).build()), DEADLINE).status())
                    .isEqualTo(200);
        }
    }

    /**
     * Broken chunked encoding (HTTP/1.1: a bad chunk-size line) is a ProtocolException; the HTTP/2 counterpart (partial
     * DATA, then RST_STREAM(PROTOCOL_ERROR)) is a reset stream, a ConnectionLostException. Never a truncated success.
     */
    @ParameterizedTest
    @EnumSource(Proto.class)
    void row13_brokenChunkedBody(Proto p) {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            HttpRequest req = chat(p.uri(mock, "/v1/chat/completions"), true).header("x-mock-tokens", "20")
                    .header("x-mock-malformed", "broken-chunked").build();
            if (p == Proto.H1) {
                failsWithin(client.send(req), DEADLINE, ProtocolException.class);
            } else {
                failsWithin(client.send(req), DEADLINE, ConnectionLostException.class);
            }
            assertAccountingExact(client);
        }
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void row13_oversizedSseLine(Proto p) {
        try (ConnectionPoolManager client = clientFor(mock).build()) {
            HttpRequest req = chat(p.uri(mock, "/v1/chat/completions"), true)
                    .header("x-mock-malformed", "oversized-sse-line").build();
            StreamingResponse r = within(client.stream(req), DEADLINE);
            LimitExceededException e = null;
            for (int i = 0; i < 100 && e == null; i++) {
                try {
                    if (within(r.nextEvent(), DEADLINE) == null) {
                        break;
                    }
                } catch (LimitExceededException x) {
                    e = x;
                }
            }
            assertThat(e).as("SSE line limit").isNotNull();
            assertThat(e.limit()).isEqualTo(LimitExceededException.Limit.SSE_LINE);
            r.close();
            assertAccountingExact(client);
        }
    }
}

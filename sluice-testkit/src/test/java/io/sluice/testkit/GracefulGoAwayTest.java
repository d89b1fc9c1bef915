package io.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http2.Http2Error;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** GOAWAY as RFC 9113 §6.8 intends, seen frame by frame from a raw HTTP/2 client. */
class GracefulGoAwayTest {
    private static final String CHAT_STREAM = "{\"model\":\"m\",\"stream\":true,\"messages\":[]}";
    private static final long WAIT_MS = 5000;

    @Test
    void goAwayAllServesOpenStreamsToCompletionThenCloses() throws Exception {
        try (MockProvider m = MockProvider.start(); RawH2Client c = new RawH2Client(m.plainPort())) {
            c.post(1, "/v1/chat/completions", CHAT_STREAM, "x-mock-tokens", "5", "x-mock-token-delay-ms", "60");
            assertThat(c.await("HEADERS 1", WAIT_MS)).isEqualTo("HEADERS 1 200 end=false");
            m.goAwayAll();
            assertThat(c.await("GOAWAY", WAIT_MS)).isEqualTo("GOAWAY 1 0");

            List<String> after = drain(c);
            assertThat(after).last().isEqualTo("CLOSED");
            assertThat(after.stream().filter(e -> e.startsWith("DATA 1") && e.endsWith("end=true"))).hasSize(1);
        }
    }

    @Test
    void framesForStreamsAboveLastStreamIdAreIgnoredNotFatal() throws Exception {
        try (MockProvider m = MockProvider.start(); RawH2Client c = new RawH2Client(m.plainPort())) {
            c.post(1, "/v1/chat/completions", CHAT_STREAM, "x-mock-tokens", "4", "x-mock-token-delay-ms", "60");
            c.await("HEADERS 1", WAIT_MS);
            m.goAwayAll();
            assertThat(c.await("GOAWAY", WAIT_MS)).isEqualTo("GOAWAY 1 0");
            // A client that opened streams before it saw the GOAWAY keeps sending frames for them.
            c.headersOnly(3, "/v1/chat/completions");
            c.data(3, "{\"model\":\"m\",", false);
            c.data(3, "\"messages\":[]}", true);
            c.rst(3, Http2Error.CANCEL);
            c.data(5, "{}", true);
            c.rst(7, Http2Error.CANCEL);

            List<String> after = drain(c);
            assertThat(after).contains("RST 3 " + Http2Error.REFUSED_STREAM.code());
            assertThat(after.stream().filter(e -> e.startsWith("DATA 1") && e.endsWith("end=true"))).hasSize(1);
            assertThat(after).last().isEqualTo("CLOSED");
            assertThat(after).noneMatch(e -> e.startsWith("HEADERS 3") || e.startsWith("GOAWAY"));
        }
    }

    @Test
    void goAwayAfterStreamsHeaderDrainsTheStreamThatTriggeredIt() throws Exception {
        try (MockProvider m = MockProvider.start(); RawH2Client c = new RawH2Client(m.plainPort())) {
            c.post(1, "/v1/chat/completions", CHAT_STREAM, "x-mock-tokens", "4", "x-mock-token-delay-ms", "60",
                    "x-mock-goaway-after-streams", "1");
            List<String> events = drain(c);
            assertThat(events).contains("GOAWAY 1 0");
            assertThat(events.indexOf("GOAWAY 1 0"))
                    .isLessThan(indexOf(events, "DATA 1", "end=true"));
            assertThat(events).last().isEqualTo("CLOSED");
        }
    }

    @Test
    void drainTimeoutClosesAConnectionWhoseStreamNeverEnds() throws Exception {
        try (MockProvider m = MockProvider.start(MockOptions.builder().goAwayDrainTimeout(Duration.ofMillis(300)).build());
                RawH2Client c = new RawH2Client(m.plainPort())) {
            c.post(1, "/v1/chat/completions", CHAT_STREAM, "x-mock-blackhole", "true");
            awaitOpenStreams(m, 1);
            m.goAwayAll();
            assertThat(c.await("GOAWAY", WAIT_MS)).isEqualTo("GOAWAY 1 0");
            // The blackholed stream would hold the connection forever; the drain timeout closes it.
            assertThat(c.await("CLOSED", WAIT_MS)).isEqualTo("CLOSED");
        }
    }

    @Test
    void abruptGoAwayClosesWithOpenStreams() throws Exception {
        try (MockProvider m = MockProvider.start(); RawH2Client c = new RawH2Client(m.plainPort())) {
            c.post(1, "/v1/chat/completions", CHAT_STREAM, "x-mock-tokens", "50", "x-mock-token-delay-ms", "100");
            c.await("HEADERS 1", WAIT_MS);
            m.goAwayAll(true);
            List<String> after = drain(c);
            assertThat(after).contains("GOAWAY 1 0").last().isEqualTo("CLOSED");
            assertThat(after).noneMatch(e -> e.endsWith("end=true"));
        }
    }

    /** Every event until the connection closes. */
    static List<String> drain(RawH2Client c) throws InterruptedException {
        List<String> events = new ArrayList<>();
        String e;
        while ((e = c.await(x -> true, WAIT_MS)) != null) {
            events.add(e);
            if (e.equals("CLOSED")) {
                break;
            }
        }
        return events;
    }

    private static int indexOf(List<String> events, String prefix, String suffix) {
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).startsWith(prefix) && events.get(i).endsWith(suffix)) {
                return i;
            }
        }
        return -1;
    }

    static void awaitOpenStreams(MockProvider m, int n) {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> m.stats().openStreams() == n);
    }
}

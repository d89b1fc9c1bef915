package io.sluice.http;

import static io.sluice.http.HttpTestSupport.chat;
import static io.sluice.http.HttpTestSupport.clientFor;
import static io.sluice.http.HttpTestSupport.https;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.sluice.testkit.MockProvider;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * The per-call event listener against the mock provider over TLS: the events a call goes through, in
 * order, for the call that opened a connection and for one that reused it; the set-up figures of a
 * real TLS connect; a streamed (SSE) body; and a listener that throws, which must change nothing.
 */
@Timeout(30)
class CallListenerTest {
    @RegisterExtension
    static final MockProviderExtension MOCK = MockProviderExtension.withOptions(io.sluice.testkit.MockOptions.builder().build());
    @InjectMock
    static MockProvider mock;

    @Test
    void aCallGoesThroughEveryEventInOrderAndTheFirstOnANewConnectionGetsItsSetUp() {
        ConcurrentLinkedQueue<RecordingCallListener> made = new ConcurrentLinkedQueue<>();
        try (ConnectionPoolManager client = clientFor(mock).callListener((route, request) -> {
            RecordingCallListener l = new RecordingCallListener();
            made.add(l);
            return l;
        }).build()) {
            HttpResponse first = client.sendBlocking(chat(https(mock, "/v1/chat/completions"), false));
            HttpResponse second = client.sendBlocking(chat(https(mock, "/v1/chat/completions"), false));
            assertThat(first.status()).isEqualTo(200);
            assertThat(second.status()).isEqualTo(200);
        }
        List<RecordingCallListener> calls = List.copyOf(made);
        assertThat(calls).hasSize(2);
        assertThat(calls.get(0).eventsAtEnd()).containsExactly("callStart POST", "acquireStart 1", "connectionSetUp",
                "acquireEnd new=true", "requestSending", "requestSent", "responseHeaders 200", "firstBodyByte",
                "callEnd 200");
        assertThat(calls.get(1).eventsAtEnd()).as("the second call reuses the connection: no set-up")
                .containsExactly("callStart POST", "acquireStart 1", "acquireEnd new=false", "requestSending",
                        "requestSent", "responseHeaders 200", "firstBodyByte", "callEnd 200");
        ConnectionSetup setup = calls.get(0).setup();
        assertThat(setup.tlsNanos()).as("a TLS connect measures its handshake").isPositive();
        assertThat(setup.connectNanos()).isPositive();
        assertThat(setup.addressesTried()).isEqualTo(1);
        assertThat(setup.totalNanos()).isGreaterThanOrEqualTo(setup.dnsNanos() + setup.connectNanos() + setup.tlsNanos());
        assertThat(setup.viaProxy()).isFalse();
        assertThat(setup.remoteAddress()).endsWith(":" + mock.httpsUri().getPort());
        assertThat(calls.get(0).connection.secure()).isTrue();
        assertThat(calls.get(0).bodyBytes()).isPositive();
    }

    @Test
    void theLastEventComesBeforeTheCallerSeesTheEnd() {
        // A metric read right after send() returned must count the call (a listener's end used to race the caller).
        for (int i = 0; i < 200; i++) {
            made.add(new RecordingCallListener());
        }
        List<RecordingCallListener> listeners = List.copyOf(made);
        java.util.Iterator<RecordingCallListener> next = listeners.iterator();
        try (ConnectionPoolManager c = clientFor(mock).callListener((route, request) -> next.next()).build()) {
            for (RecordingCallListener l : listeners) {
                assertThat(c.sendBlocking(chat(https(mock, "/v1/chat/completions"), false)).status()).isEqualTo(200);
                assertThat(l.events()).as("events when send() returned").endsWith("callEnd 200");
            }
        }
    }

    private final ConcurrentLinkedQueue<RecordingCallListener> made = new ConcurrentLinkedQueue<>();

    @Test
    void aStreamedBodyReportsItsFirstByteAndItsEndWhenTheCallerReadsItAll() {
        RecordingCallListener l = new RecordingCallListener();
        try (ConnectionPoolManager client = clientFor(mock).callListener(CallListener.Factory.of(l)).build();
             StreamingResponse r = client.streamBlocking(chat(https(mock, "/v1/chat/completions"), true))) {
            int events = 0;
            while (r.nextEventBlocking() != null) {
                events++;
            }
            assertThat(events).isGreaterThan(1);
        }
        assertThat(l.eventsAtEnd()).endsWith("responseHeaders 200", "firstBodyByte", "callEnd 200");
        assertThat(l.firstByteNanos).isLessThanOrEqualTo(l.endNanos);
    }

    @Test
    void everyAddedFactoryGetsEveryEventInTheOrderTheyWereAdded() {
        java.util.List<String> seen = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        RecordingCallListener second = new RecordingCallListener();
        CallListener first = new CallListener() {
            @Override
            public void callEnd(int status, long bodyBytes, long nanosSinceStart) {
                seen.add("first callEnd " + status + " (second saw " + second.events().size() + " events)");
            }
        };
        try (ConnectionPoolManager client = clientFor(mock).callListener(CallListener.Factory.of(first))
                .callListener((route, request) -> CallListener.NONE) // a factory may decline a call
                .callListener(CallListener.Factory.of(second)).build()) {
            assertThat(client.sendBlocking(chat(https(mock, "/v1/chat/completions"), false)).status()).isEqualTo(200);
        }
        assertThat(second.eventsAtEnd()).startsWith("callStart POST").endsWith("callEnd 200");
        assertThat(seen).containsExactly("first callEnd 200 (second saw 8 events)");
    }

    @Test
    void aListenerThatThrowsFromEveryEventChangesNothingAndWarnsOnce() {
        Logger log = (Logger) LoggerFactory.getLogger(CallListener.class);
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        log.addAppender(captured);
        AtomicInteger thrown = new AtomicInteger();
        CallListener broken = (CallListener) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {CallListener.class}, (proxy, method, args) -> {
                    thrown.incrementAndGet();
                    throw new IllegalStateException("listener bug in " + method.getName());
                });
        try (ConnectionPoolManager client = clientFor(mock).callListener(CallListener.Factory.of(broken)).build()) {
            for (int i = 0; i < 3; i++) {
                assertThat(client.sendBlocking(chat(https(mock, "/v1/chat/completions"), false)).status()).isEqualTo(200);
            }
            try (StreamingResponse r = client.streamBlocking(chat(https(mock, "/v1/chat/completions"), true))) {
                assertThat(r.aggregateBlocking().status()).isEqualTo(200);
            }
            HttpTestSupport.assertNoLeasesOut(client);
        } finally {
            log.detachAppender(captured);
        }
        assertThat(thrown.get()).as("every event reached the listener").isGreaterThanOrEqualTo(4 * 8);
        assertThat(captured.list.stream().filter(e -> e.getLevel() == Level.WARN).count()).as("one warning per client")
                .isEqualTo(1);
    }
}

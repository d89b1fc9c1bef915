package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.pool.PoolConfig;
import io.sluice.testkit.MockProvider;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Request bodies streamed from a {@link Flow.Publisher}, with and without a known length, over both protocols. */
class StreamedRequestBodyTest {

    private static final String JSON = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(200_000)
            + "\"}]}";

    /** Emits the JSON in 1000-byte pieces, honouring request(n); re-subscribable (a new run per subscriber). */
    static final class ChunkedPublisher implements Flow.Publisher<ByteBuffer> {
        final AtomicInteger subscriptions = new AtomicInteger();

        @Override
        public void subscribe(Flow.Subscriber<? super ByteBuffer> s) {
            subscriptions.incrementAndGet();
            byte[] bytes = JSON.getBytes(StandardCharsets.UTF_8);
            s.onSubscribe(new Flow.Subscription() {
                int offset;
                long demand;
                final AtomicBoolean emitting = new AtomicBoolean();
                volatile boolean done;

                @Override
                public void request(long n) {
                    synchronized (this) {
                        demand += n;
                    }
                    if (!emitting.compareAndSet(false, true)) {
                        return; // re-entrant request from onNext: the running loop picks it up
                    }
                    try {
                        while (!done) {
                            synchronized (this) {
                                if (demand == 0) {
                                    break;
                                }
                                demand--;
                            }
                            int len = Math.min(1000, bytes.length - offset);
                            ByteBuffer piece = ByteBuffer.wrap(bytes, offset, len).slice();
                            offset += len;
                            s.onNext(piece);
                            if (offset == bytes.length) {
                                done = true;
                                s.onComplete();
                            }
                        }
                    } finally {
                        emitting.set(false);
                    }
                }

                @Override
                public void cancel() {
                    done = true;
                }
            });
        }
    }

    static Stream<Arguments> cases() {
        return Stream.of(Arguments.of(false, true), Arguments.of(false, false), Arguments.of(true, true),
                Arguments.of(true, false));
    }

    @ParameterizedTest(name = "http1Only={0}, knownLength={1}")
    @MethodSource("cases")
    void aPublishedBodyReachesTheServerWhole(boolean http1Only, boolean knownLength) throws Exception {
        try (MockProvider mock = MockProvider.start();
             ConnectionPoolManager client = ConnectionPoolManager.builder()
                     .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build()).http1Only(http1Only)
                     .poolConfig(PoolConfig.builder().minIdle(0).build()).build()) {
            URI uri = mock.httpsUri().resolve("/v1/chat/completions");
            ChunkedPublisher body = new ChunkedPublisher();
            long length = knownLength ? JSON.getBytes(StandardCharsets.UTF_8).length : -1;
            HttpResponse r = client.send(HttpRequest.newBuilder(uri).method("POST").body(body, length)
                    .header("content-type", "application/json").header("authorization", "Bearer sk-test").build())
                    .get(30, TimeUnit.SECONDS);
            assertThat(r.status()).as(r.bodyAsString()).isEqualTo(200);
            assertThat(r.bodyAsString()).contains("\"object\":\"chat.completion\"");
            assertThat(r.protocol()).isEqualTo(http1Only ? Protocol.HTTP_1_1 : Protocol.H2);
            assertThat(body.subscriptions.get()).isEqualTo(1);
            // The mock counts prompt tokens as body bytes / 4: the whole body arrived.
            assertThat(r.bodyAsString()).contains("\"prompt_tokens\":" + JSON.getBytes(StandardCharsets.UTF_8).length / 4);
            assertThat(client.stats(Route.of(uri)).leasesOut()).isZero();
        }
    }
}

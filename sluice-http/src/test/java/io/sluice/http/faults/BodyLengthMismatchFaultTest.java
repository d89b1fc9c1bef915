package io.sluice.http.faults;

import static io.sluice.http.faults.FaultSupport.assertAccountingExact;
import static io.sluice.http.faults.FaultSupport.failsWithin;
import static io.sluice.http.faults.FaultSupport.pool;
import static io.sluice.http.faults.FaultSupport.within;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.InvalidRequestException;
import io.sluice.http.Route;
import io.sluice.http.faults.ScriptedH2Server.Action;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A streamed request body whose publisher emits more or fewer bytes than the length it declared
 * ({@code HttpRequest.Builder.body(publisher, length)}). The request must fail with
 * {@link InvalidRequestException} (the caller's body is wrong, not the peer), and on HTTP/1.1 the
 * connection must be closed with no byte past the declared length on the wire: extra bytes would be
 * read by the server as the start of the next request, and a short body would leave it waiting.
 * On HTTP/2 a content-length that does not match the DATA is malformed (RFC 9113 §8.1.1): the
 * stream is reset instead of ending it.
 */
@Timeout(60)
class BodyLengthMismatchFaultTest {

    private static final Duration DEADLINE = Duration.ofSeconds(3);

    /** Emits {@code chunks} one per request(1), then completes; serial, re-entrancy safe. */
    static Flow.Publisher<ByteBuffer> publisher(String... chunks) {
        return s -> s.onSubscribe(new Flow.Subscription() {
            private final AtomicBoolean emitting = new AtomicBoolean();
            private long demand;
            private int next;
            private volatile boolean cancelled;

            @Override
            public void request(long n) {
                synchronized (this) {
                    demand += n;
                }
                if (!emitting.compareAndSet(false, true)) {
                    return;
                }
                try {
                    while (!cancelled) {
                        synchronized (this) {
                            if (demand == 0 || next > chunks.length) {
                                return;
                            }
                            demand--;
                        }
                        if (next == chunks.length) {
                            next++;
                            s.onComplete();
                            return;
                        }
                        s.onNext(ByteBuffer.wrap(chunks[next++].getBytes(StandardCharsets.US_ASCII)));
                    }
                } finally {
                    emitting.set(false);
                }
            }

            @Override
            public void cancel() {
                cancelled = true;
            }
        });
    }

    /**
     * Reads one request head, then every byte until the client closes (never answers); the body
     * future completes with the bytes after the head once the client closed the connection.
     */
    private static RawPeer recordingPeer(CompletableFuture<byte[]> body) throws Exception {
        return new RawPeer((Socket s, int n) -> {
            s.setSoTimeout(20_000);
            InputStream in = s.getInputStream();
            if (!RawPeer.readRequestHead(in)) {
                return;
            }
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            for (int r; (r = in.read(buf)) != -1; ) {
                got.write(buf, 0, r);
            }
            body.complete(got.toByteArray());
        });
    }

    private static ConnectionPoolManager h1Client() {
        return ConnectionPoolManager.builder().poolConfig(pool().build()).requestTimeout(DEADLINE).build();
    }

    @Test
    void http1MoreBytesThanDeclaredFailsAndNeverSendsTheExtra() throws Exception {
        CompletableFuture<byte[]> received = new CompletableFuture<>();
        try (RawPeer peer = recordingPeer(received); ConnectionPoolManager client = h1Client()) {
            URI uri = URI.create("http://127.0.0.1:" + peer.port() + "/v1/upload");
            HttpRequest r = HttpRequest.newBuilder(uri).method("POST")
                    .body(publisher("0123456789", "EXTRA"), 10).build();
            InvalidRequestException e = failsWithin(client.send(r), DEADLINE, InvalidRequestException.class);
            assertThat(e.getMessage()).contains("10").contains("more");
            assertThat(new String(received.get(5, TimeUnit.SECONDS), StandardCharsets.US_ASCII))
                    .as("bytes after the head; the connection was closed").isEqualTo("0123456789");
            assertAccountingExact(client);
            assertThat(client.stats(Route.of(uri)).open()).isZero();
        }
    }

    @Test
    void http1FewerBytesThanDeclaredFailsAndClosesTheConnection() throws Exception {
        CompletableFuture<byte[]> received = new CompletableFuture<>();
        try (RawPeer peer = recordingPeer(received); ConnectionPoolManager client = h1Client()) {
            URI uri = URI.create("http://127.0.0.1:" + peer.port() + "/v1/upload");
            HttpRequest r = HttpRequest.newBuilder(uri).method("POST")
                    .body(publisher("012", "345"), 10).build();
            InvalidRequestException e = failsWithin(client.send(r), DEADLINE, InvalidRequestException.class);
            assertThat(e.getMessage()).contains("10").contains("6");
            assertThat(new String(received.get(5, TimeUnit.SECONDS), StandardCharsets.US_ASCII))
                    .as("the server is not left waiting: the connection was closed").isEqualTo("012345");
            assertAccountingExact(client);
            assertThat(client.stats(Route.of(uri)).open()).isZero();
        }
    }

    @Test
    void http1ExactLengthStillWorksAndTheConnectionIsReused() throws Exception {
        try (RawPeer peer = new RawPeer((Socket s, int n) -> {
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                while (RawPeer.readRequestHead(in)) {
                    in.readNBytes(10);
                    out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
            }); ConnectionPoolManager client = h1Client()) {
            URI uri = URI.create("http://127.0.0.1:" + peer.port() + "/v1/upload");
            for (int i = 0; i < 2; i++) {
                HttpRequest r = HttpRequest.newBuilder(uri).method("POST")
                        .body(publisher("01234", "56789"), 10).build();
                assertThat(within(client.send(r), DEADLINE).status()).isEqualTo(200);
            }
            assertThat(peer.connections.get()).isEqualTo(1);
            assertAccountingExact(client);
        }
    }

    @Test
    void http2MismatchedLengthResetsTheStreamWithATypedError() {
        try (ScriptedH2Server server = new ScriptedH2Server(n -> Action.answer(200));
             ConnectionPoolManager client = ConnectionPoolManager.builder().poolConfig(pool().build())
                     .h2cPriorKnowledge(true).requestTimeout(DEADLINE).build()) {
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/upload");
            for (List<String> chunks : List.of(List.of("0123456789", "EXTRA"), List.of("012", "345"))) {
                HttpRequest r = HttpRequest.newBuilder(uri).method("POST")
                        .body(publisher(chunks.toArray(String[]::new)), 10).build();
                failsWithin(client.send(r), DEADLINE, InvalidRequestException.class);
            }
            HttpRequest ok = HttpRequest.newBuilder(uri).method("POST").body(publisher("0123456789"), 10).build();
            assertThat(within(client.send(ok), DEADLINE).status()).as("the connection still serves").isEqualTo(200);
            assertThat(server.connections.get()).isEqualTo(1);
            assertAccountingExact(client);
        }
    }
}

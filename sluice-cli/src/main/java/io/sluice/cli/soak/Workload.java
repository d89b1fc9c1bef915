package io.sluice.cli.soak;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.StreamingResponse;
import io.sluice.testkit.MockBehavior;
import io.sluice.websocket.WebSocketLease;
import io.sluice.websocket.WebSocketPool;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Issues one soak request of a given kind, optionally carrying an injected fault's {@code x-mock-*}
 * knobs, and reports its {@link Outcome}. Every response body is read to its end or closed, and
 * every WebSocket lease is closed or invalidated, whatever happens, so that leases left over at the
 * end of a soak are the client's, not the workload's.
 *
 * <p>Thread-safe: holds only the shared, thread-safe client and pool and immutable URIs.
 */
final class Workload {
    /** Client-side bounds for ordinary requests: the mock answers in milliseconds. */
    static final Duration HEADERS_TIMEOUT = Duration.ofSeconds(5);
    static final Duration BODY_IDLE_TIMEOUT = Duration.ofSeconds(5);
    /** The blackholed request's headers timeout: its expected failure should come quickly. */
    static final Duration BLACKHOLE_TIMEOUT = Duration.ofMillis(300);
    private static final long WS_RECEIVE_TIMEOUT_MS = 5000;
    private static final String CHAT = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    private static final String CHAT_STREAM =
            "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    private final ConnectionPoolManager client;
    private final WebSocketPool websockets;
    private final URI plain;
    private final URI tls;

    Workload(ConnectionPoolManager client, WebSocketPool websockets, URI plain, URI tls) {
        this.client = client;
        this.websockets = websockets;
        this.plain = plain;
        this.tls = tls;
    }

    /** Runs one request; the future never fails, it completes with the outcome. */
    CompletableFuture<Outcome> run(RequestKind kind, Fault fault) {
        CompletableFuture<Outcome> f;
        try {
            f = kind == RequestKind.WEBSOCKET ? session() : http(kind, fault);
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        return f.exceptionally(Outcome::failure);
    }

    private CompletableFuture<Outcome> http(RequestKind kind, Fault fault) {
        URI base = kind.tls() ? tls : plain;
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve("/v1/chat/completions"))
                .header("content-type", "application/json")
                .header("authorization", "Bearer sk-soak")
                .POST(kind.streaming() ? CHAT_STREAM : CHAT)
                .headersTimeout(fault == Fault.BLACKHOLE ? BLACKHOLE_TIMEOUT : HEADERS_TIMEOUT)
                .bodyIdleTimeout(BODY_IDLE_TIMEOUT);
        if (fault != null) {
            knobs(b, fault);
        }
        HttpRequest request = b.build();
        if (!kind.streaming()) {
            return client.send(request).thenApply(r -> r.status() >= 400 ? Outcome.status(r.status()) : Outcome.ok());
        }
        return client.stream(request).thenCompose(this::readEvents);
    }

    /** The x-mock-* headers that make this one request fail in the fault's way. */
    private static void knobs(HttpRequest.Builder b, Fault fault) {
        switch (fault) {
            case CLOSE_AFTER_BYTES -> b.header(MockBehavior.H_CLOSE_AFTER_BYTES, "200")
                    .header(MockBehavior.H_TOKENS, "40").header(MockBehavior.H_TOKEN_DELAY_MS, "2");
            case RESET -> b.header(MockBehavior.H_RESET_CONNECTION_AFTER_BYTES, "200")
                    .header(MockBehavior.H_TOKENS, "40").header(MockBehavior.H_TOKEN_DELAY_MS, "2");
            case STREAM_RESET -> b.header(MockBehavior.H_RESET_AFTER_TOKENS, "3")
                    .header(MockBehavior.H_TOKEN_DELAY_MS, "2");
            case REFUSE_STREAM -> b.header(MockBehavior.H_REFUSE_STREAM, "true");
            case STATUS_429 -> b.header(MockBehavior.H_STATUS, "429").header(MockBehavior.H_RETRY_AFTER_MS, "20");
            case STATUS_503 -> b.header(MockBehavior.H_STATUS, "503").header(MockBehavior.H_RETRY_AFTER_MS, "20");
            case BLACKHOLE -> b.header(MockBehavior.H_BLACKHOLE, "true");
            case MALFORMED -> b.header(MockBehavior.H_MALFORMED, "broken-chunked");
            default -> throw new IllegalArgumentException(fault + " is a server-wide fault, not a request knob");
        }
    }

    /** Reads SSE events to the end of the stream; the response is closed on every path. */
    private CompletableFuture<Outcome> readEvents(StreamingResponse r) {
        if (r.status() >= 400) {
            return r.aggregate().handle((x, e) -> {
                r.close();
                return Outcome.status(r.status());
            });
        }
        CompletableFuture<Outcome> done = new CompletableFuture<>();
        nextEvent(r, done);
        return done.whenComplete((o, e) -> r.close());
    }

    private void nextEvent(StreamingResponse r, CompletableFuture<Outcome> done) {
        r.nextEvent().whenComplete((event, error) -> {
            if (error != null) {
                done.complete(Outcome.failure(error));
            } else if (event == null) {
                done.complete(Outcome.ok());
            } else {
                // A stream of a few dozen events: one level of recursion per event on the callback thread.
                nextEvent(r, done);
            }
        });
    }

    /** One realtime turn: response.create, then messages until response.done. */
    private CompletableFuture<Outcome> session() {
        return websockets.acquire().thenCompose(lease -> {
            CompletableFuture<Outcome> done = new CompletableFuture<>();
            lease.sendText("{\"type\":\"response.create\"}").whenComplete((v, e) -> {
                if (e != null) {
                    done.complete(Outcome.failure(e));
                } else {
                    receiveUntilDone(lease, done);
                }
            });
            return done.whenComplete((o, e) -> {
                if (o != null && o.isOk()) {
                    lease.close();
                } else {
                    lease.invalidate();
                }
            });
        });
    }

    private void receiveUntilDone(WebSocketLease lease, CompletableFuture<Outcome> done) {
        lease.receive().orTimeout(WS_RECEIVE_TIMEOUT_MS, TimeUnit.MILLISECONDS).whenComplete((m, e) -> {
            if (e != null) {
                done.complete(Outcome.failure(e));
            } else if (m.isText() && m.text().contains("\"response.done\"")) {
                done.complete(Outcome.ok());
            } else if (m.isText() && m.text().contains("\"type\":\"error\"")) {
                done.complete(new Outcome("ws_error_event", false, m.text()));
            } else {
                receiveUntilDone(lease, done);
            }
        });
    }
}

package io.sluice.http.internal.client;

import io.sluice.http.BodyChunk;
import io.sluice.http.ClientClosedException;
import io.sluice.http.Headers;
import io.sluice.http.HttpResponse;
import io.sluice.http.LimitExceededException;
import io.sluice.http.Protocol;
import io.sluice.http.StreamingResponse;
import io.sluice.http.sse.SseEvent;
import io.sluice.http.sse.SseParser;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.function.Function;

/**
 * {@link StreamingResponse} over a {@link ResponseBody}. SSE parsing and aggregation are
 * pull loops over {@link ResponseBody#next()} that run inline while chunks are already
 * queued (no recursion) and resume from the completing thread otherwise.
 *
 * <p><b>Thread-safety:</b> as the interface says: reads are sequential; {@link #close()}
 * may race with them safely.
 */
final class DefaultStreamingResponse implements StreamingResponse {

    private final int status;
    private final Headers headers;
    private final Protocol protocol;
    private final ResponseBody body;
    private final String route;
    private final ClientContext ctx;
    private final ArrayDeque<SseEvent> events = new ArrayDeque<>();
    private SseParser parser;
    private boolean sseEnded;

    DefaultStreamingResponse(int status, Headers headers, Protocol protocol, ResponseBody body, String route,
                             ClientContext ctx) {
        this.status = status;
        this.headers = headers;
        this.protocol = protocol;
        this.body = body;
        this.route = route;
        this.ctx = ctx;
    }

    @Override
    public int status() {
        return status;
    }

    @Override
    public Headers headers() {
        return headers;
    }

    @Override
    public Protocol protocol() {
        return protocol;
    }

    @Override
    public CompletableFuture<BodyChunk> readChunk() {
        return mapped(body.next());
    }

    @Override
    public Flow.Publisher<ByteBuffer> body() {
        return new PullPublisher<>(this::readChunk, BodyChunk::buffer, BodyChunk::close, this::close);
    }

    @Override
    public Flow.Publisher<SseEvent> events() {
        return new PullPublisher<>(this::nextEvent, Function.identity(), e -> { }, this::close);
    }

    @Override
    public CompletableFuture<SseEvent> nextEvent() {
        CompletableFuture<SseEvent> out = new CompletableFuture<>();
        pumpEvents(out);
        return out;
    }

    private void pumpEvents(CompletableFuture<SseEvent> out) {
        for (;;) {
            SseEvent e;
            synchronized (events) {
                e = events.poll();
            }
            if (e != null) {
                out.complete(e);
                return;
            }
            if (sseEnded) {
                out.complete(null);
                return;
            }
            CompletableFuture<BodyChunk> f = body.next();
            if (!f.isDone()) {
                f.whenComplete((c, err) -> {
                    if (feedEvents(c, err, out)) {
                        pumpEvents(out);
                    }
                });
                return;
            }
            BodyChunk c;
            try {
                c = f.join();
            } catch (RuntimeException err) {
                feedEvents(null, err, out);
                return;
            }
            if (!feedEvents(c, null, out)) {
                return;
            }
        }
    }

    /** Feeds one chunk to the parser; false when {@code out} was completed with an error. */
    private boolean feedEvents(BodyChunk c, Throwable err, CompletableFuture<SseEvent> out) {
        if (err != null) {
            out.completeExceptionally(Errors.map(route, err, null));
            return false;
        }
        if (parser == null) {
            parser = new SseParser(ctx.limits().maxSseLineBytes(), route);
        }
        if (c == null) {
            parser.end();
            sseEnded = true;
            return true;
        }
        try (c) {
            parser.feed(c.buffer().duplicate(), ev -> {
                synchronized (events) {
                    events.add(ev);
                }
            });
            return true;
        } catch (LimitExceededException tooLong) {
            body.stopWith(tooLong);
            out.completeExceptionally(tooLong);
            return false;
        }
    }

    @Override
    public CompletableFuture<HttpResponse> aggregate() {
        long limit = ctx.limits().maxBodyBytes();
        String cl = headers.get("content-length");
        int initial = 8 * 1024;
        if (cl != null) {
            try {
                long declared = Long.parseLong(cl.trim());
                if (declared > limit) {
                    LimitExceededException e = new LimitExceededException(route, LimitExceededException.Limit.BODY, limit);
                    body.stopWith(e);
                    return CompletableFuture.failedFuture(e);
                }
                initial = (int) Math.max(0, declared);
            } catch (NumberFormatException ignored) {
                // a malformed length is the codec's business; read what comes
            }
        }
        CompletableFuture<HttpResponse> out = new CompletableFuture<>();
        new Aggregator(out, initial, limit).pump();
        return out;
    }

    /** Accumulates the body into one array; one instance per aggregate() call. */
    private final class Aggregator {
        private final CompletableFuture<HttpResponse> out;
        private final long limit;
        private byte[] buf;
        private int size;

        Aggregator(CompletableFuture<HttpResponse> out, int initial, long limit) {
            this.out = out;
            this.buf = new byte[initial];
            this.limit = limit;
        }

        void pump() {
            for (;;) {
                CompletableFuture<BodyChunk> f = body.next();
                if (!f.isDone()) {
                    f.whenComplete((c, err) -> {
                        if (take(c, err)) {
                            pump();
                        }
                    });
                    return;
                }
                BodyChunk c;
                try {
                    c = f.join();
                } catch (RuntimeException err) {
                    take(null, err);
                    return;
                }
                if (!take(c, null)) {
                    return;
                }
            }
        }

        /** Appends one chunk; false when aggregation finished (done or failed). */
        private boolean take(BodyChunk c, Throwable err) {
            if (err != null) {
                out.completeExceptionally(Errors.map(route, err, null));
                return false;
            }
            if (c == null) {
                out.complete(new HttpResponse(status, headers, size == buf.length ? buf : Arrays.copyOf(buf, size),
                        protocol));
                return false;
            }
            try (c) {
                int n = c.size();
                if ((long) size + n > limit) {
                    LimitExceededException e = new LimitExceededException(route, LimitExceededException.Limit.BODY, limit);
                    body.stopWith(e);
                    out.completeExceptionally(e);
                    return false;
                }
                if (size + n > buf.length) {
                    buf = Arrays.copyOf(buf, (int) Math.min(limit, Math.max((long) size + n, (long) buf.length * 2)));
                }
                c.buffer().duplicate().get(buf, size, n);
                size += n;
                return true;
            }
        }
    }

    @Override
    public HttpResponse aggregateBlocking() {
        return Errors.join(aggregate(), route);
    }

    @Override
    public BodyChunk readChunkBlocking() {
        return Errors.join(readChunk(), route);
    }

    @Override
    public SseEvent nextEventBlocking() {
        return Errors.join(nextEvent(), route);
    }

    @Override
    public void close() {
        close(new ClientClosedException(route, "response closed by the caller before its end"));
    }

    private void close(Throwable reason) {
        body.cancel(reason);
    }

    private CompletableFuture<BodyChunk> mapped(CompletableFuture<BodyChunk> f) {
        if (f.isDone() && !f.isCompletedExceptionally()) {
            return f;
        }
        CompletableFuture<BodyChunk> out = new CompletableFuture<>();
        f.whenComplete((c, e) -> {
            if (e != null) {
                out.completeExceptionally(Errors.map(route, e, null));
            } else if (!out.complete(c) && c != null) {
                c.close();
            }
        });
        return out;
    }

    @Override
    public String toString() {
        return "StreamingResponse[" + status + ", " + protocol + ", " + route + "]";
    }
}

package io.sluice.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/**
 * One request/response on one HTTP/1.1 connection or one HTTP/2 stream: writes the response head
 * with the provider headers, body pieces, and applies the byte-level faults (close after N bytes,
 * broken chunked coding, stream reset, slow head).
 *
 * <p>Confined to the channel's event loop. Takes ownership of every {@link ByteBuf} passed to it.
 */
final class Exchange {
    static final String SSE = "text/event-stream";
    static final String JSON = "application/json";

    private static final int PADDING_HEADERS = 25;
    private static final String PADDING_VALUE;

    static {
        char[] c = new char[4096];
        Arrays.fill(c, 'p');
        PADDING_VALUE = new String(c);
    }

    private final ChannelHandlerContext ctx;
    private final MockServerContext server;
    private final ConnectionState conn;
    private final boolean http2;
    private final boolean keepAlive;
    private final HttpMethod method;
    private final String path;
    private final boolean anthropic;
    private final MockBehavior behavior;
    private final Runnable onFinish;
    private long bodyBytes;
    private boolean finished;
    /** The enforced limiter's verdict on this request; null when not limited (see {@link #headers}). */
    private RateLimiter.State rateLimit;

    Exchange(ChannelHandlerContext ctx, MockServerContext server, ConnectionState conn, boolean http2,
            boolean keepAlive, HttpMethod method, String path, MockBehavior behavior, Runnable onFinish) {
        this.ctx = ctx;
        this.server = server;
        this.conn = conn;
        this.http2 = http2;
        this.keepAlive = keepAlive;
        this.method = method;
        this.path = path;
        this.anthropic = Routes.isAnthropic(path);
        this.behavior = behavior;
        this.onFinish = onFinish;
    }

    MockBehavior behavior() {
        return behavior;
    }

    boolean anthropic() {
        return anthropic;
    }

    boolean http2() {
        return http2;
    }

    ByteBufAllocator alloc() {
        return ctx.alloc();
    }

    MockServerContext server() {
        return server;
    }

    /** This exchange's event loop. */
    io.netty.util.concurrent.EventExecutor executor() {
        return ctx.executor();
    }

    /** Schedules {@code task} on this exchange's event loop; never blocks it. */
    void schedule(Runnable task, long delayMs) {
        ctx.executor().schedule(task, delayMs, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** False once the response is complete or the stream/connection is gone. */
    boolean isActive() {
        return !finished && ctx.channel().isActive();
    }

    /** A complete response with a body of the given content type. */
    void respond(HttpResponseStatus status, CharSequence contentType, String body, long tokens) {
        respond(status, contentType, ByteBufUtil.writeUtf8(ctx.alloc(), body), tokens);
    }

    /** A complete response; takes ownership of {@code body}. */
    void respond(HttpResponseStatus status, CharSequence contentType, ByteBuf body, long tokens) {
        if (!isActive()) {
            body.release();
            return;
        }
        HttpHeaders h = headers(status, contentType, tokens);
        boolean headOnly = method.equals(HttpMethod.HEAD) || status.code() == 204 || status.code() == 304;
        if (headOnly) {
            body.release();
            body = Unpooled.EMPTY_BUFFER;
            if (status.code() != 204) {
                h.setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
            }
        } else {
            h.setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        }
        if (behavior.malformed() == Malformation.BROKEN_CHUNKED && body.isReadable()) {
            h.remove(HttpHeaderNames.CONTENT_LENGTH);
            brokenChunked(status, h, body);
            return;
        }
        armSlowHead();
        if (behavior.cutAfterBytes() < 0) {
            finish(ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body, h,
                    EmptyHttpHeaders.INSTANCE)));
            return;
        }
        ctx.write(new DefaultHttpResponse(HttpVersion.HTTP_1_1, status, h));
        if (writeBody(body, true)) {
            end(null);
        }
    }

    /** Records the limiter's verdict, so this response's headers report it. */
    void rateLimit(RateLimiter.State state) {
        this.rateLimit = state;
    }

    /** 429 for a request the enforced limit refused: the provider's error body and retry-after. */
    void respondRateLimited(RateLimiter.State s) {
        rateLimit = s;
        String unit = s.byTokens() ? "tokens" : "requests";
        long limit = s.byTokens() ? s.tokenLimit() : s.requestLimit();
        long requested = s.byTokens() ? s.tokenCost() : 1;
        long remaining = s.byTokens() ? s.tokensRemaining() : s.requestsRemaining();
        String window = ProviderHeaders.formatDuration(s.windowMs());
        String wait = ProviderHeaders.formatDuration(s.retryAfterMs());
        String body = anthropic
                ? ProviderErrors.anthropic("rate_limit_error", "This request would exceed the rate limit for your "
                        + "organization (mock) of " + limit + " " + unit + " per " + window + ". Please try again in "
                        + wait + ".")
                : ProviderErrors.openAi("Rate limit reached (mock) on " + unit + " per " + window + ": Limit " + limit
                        + ", Remaining " + remaining + ", Requested " + requested + ". Please try again in " + wait
                        + ".", unit, "rate_limit_exceeded");
        respond(HttpResponseStatus.TOO_MANY_REQUESTS, JSON, body, 0);
    }

    /** The provider's error JSON with {@code status}. */
    void respondError(int status, String message) {
        respond(HttpResponseStatus.valueOf(status), JSON, ProviderErrors.body(status, anthropic, message), 0);
    }

    /**
     * Starts an SSE response with {@code firstEvents} (owned). Returns false when a fault already
     * ended the exchange.
     */
    boolean startSse(ByteBuf firstEvents, long tokens) {
        if (!isActive()) {
            firstEvents.release();
            return false;
        }
        HttpHeaders h = headers(HttpResponseStatus.OK, SSE, tokens);
        h.set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
        if (behavior.malformed() == Malformation.BROKEN_CHUNKED) {
            brokenChunked(HttpResponseStatus.OK, h, firstEvents);
            return false;
        }
        if (!http2) {
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        armSlowHead();
        ctx.write(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, h));
        return writeBody(firstEvents, true);
    }

    /**
     * Writes body bytes (owned), honouring close-after-bytes. Returns false when the connection was
     * closed because of it; the caller must stop writing.
     */
    boolean writeBody(ByteBuf buf, boolean flush) {
        return writeBodyFuture(buf, flush) != null;
    }

    /** As {@link #writeBody} but returns the write's future, or null when the exchange ended. */
    ChannelFuture writeBodyFuture(ByteBuf buf, boolean flush) {
        if (!isActive()) {
            buf.release();
            return null;
        }
        long limit = behavior.cutAfterBytes();
        if (limit >= 0 && bodyBytes + buf.readableBytes() >= limit) {
            int keep = (int) (limit - bodyBytes);
            ByteBuf part = buf.readRetainedSlice(keep);
            buf.release();
            bodyBytes = limit;
            ChannelFuture f = ctx.writeAndFlush(new DefaultHttpContent(part));
            boolean reset = behavior.cutIsReset();
            // A reset may discard bytes still in the kernel's send buffer, exactly as a real RST does.
            f.addListener(x -> {
                if (reset) {
                    conn.closeAbruptly();
                } else {
                    conn.closeNow();
                }
            });
            finish(f);
            return null;
        }
        bodyBytes += buf.readableBytes();
        DefaultHttpContent content = new DefaultHttpContent(buf);
        return flush ? ctx.writeAndFlush(content) : ctx.write(content);
    }

    void flush() {
        ctx.flush();
    }

    /** Ends the body with {@code last} (owned, may be null) and completes the exchange. */
    void end(ByteBuf last) {
        if (last != null && last.isReadable()) {
            if (!writeBody(last, false)) {
                return;
            }
        } else if (last != null) {
            last.release();
        }
        if (!isActive()) {
            return;
        }
        finish(ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
    }

    /** HTTP/2: RST_STREAM(CANCEL). HTTP/1.1 has no stream to reset, so the connection is closed. */
    void reset() {
        if (!isActive()) {
            return;
        }
        if (http2) {
            finish(ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL)));
        } else {
            ctx.flush();
            conn.closeNow();
            finish(null);
        }
    }

    /**
     * Refuses the request unprocessed. HTTP/2: RST_STREAM(REFUSED_STREAM), which tells the client it
     * may retry anywhere. HTTP/1.1 has no such signal, so the connection is closed before any
     * response byte, which a client sees as a stale connection.
     */
    void refuse() {
        if (!isActive()) {
            return;
        }
        if (http2) {
            finish(ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.REFUSED_STREAM)));
        } else {
            conn.closeNow();
            finish(null);
        }
    }

    /** Leaves the request unanswered; the stream stays open until the peer or a fault closes it. */
    void blackhole() {
        // Intentionally nothing: the exchange is never finished, so the stream counts as open.
    }

    private void brokenChunked(HttpResponseStatus status, HttpHeaders h, ByteBuf body) {
        int half = Math.max(1, body.readableBytes() / 2);
        ByteBuf first = body.readRetainedSlice(Math.min(half, body.readableBytes()));
        body.release();
        if (http2) {
            // HTTP/2 frames its DATA itself, so the closest break is a partial body and a protocol error.
            ctx.write(new DefaultHttpResponse(HttpVersion.HTTP_1_1, status, h));
            ctx.write(new DefaultHttpContent(first));
            finish(ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.PROTOCOL_ERROR)));
            return;
        }
        StringBuilder head = new StringBuilder(256).append("HTTP/1.1 ").append(status).append("\r\n");
        for (Map.Entry<String, String> e : h) {
            head.append(e.getKey()).append(": ").append(e.getValue()).append("\r\n");
        }
        head.append("transfer-encoding: chunked\r\n\r\n")
                .append(Integer.toHexString(first.readableBytes())).append("\r\n");
        ByteBuf raw = ctx.alloc().buffer(head.length() + first.readableBytes() + 32);
        raw.writeCharSequence(head, StandardCharsets.US_ASCII);
        raw.writeBytes(first);
        first.release();
        // "zz" is not a hexadecimal chunk size: a conforming client must fail here.
        raw.writeCharSequence("\r\nzz\r\nbroken\r\n", StandardCharsets.US_ASCII);
        ChannelHandlerContext codec = ctx.pipeline().context(HttpServerCodec.class);
        // Writing from the codec's context skips its encoder, so these bytes reach the wire as they are.
        ChannelFuture f = codec.writeAndFlush(raw);
        f.addListener(x -> conn.closeNow());
        finish(f);
    }

    private void armSlowHead() {
        if (!http2 && behavior.slowHeadersMs() > 0) {
            SlowHeadWriter slow = ctx.pipeline().get(SlowHeadWriter.class);
            if (slow != null) {
                slow.arm(behavior.slowHeadersMs());
            }
        }
    }

    private HttpHeaders headers(HttpResponseStatus status, CharSequence contentType, long tokens) {
        HttpHeaders h = new DefaultHttpHeaders(false);
        int code = status.code();
        if (contentType != null) {
            h.set(HttpHeaderNames.CONTENT_TYPE, contentType);
        }
        if (server.limiter != null) {
            // Enforced: this request's verdict, or for requests the limit does not apply to (other
            // paths, errors before admission) the current state, so every response reports it.
            RateLimiter.State s = rateLimit != null ? rateLimit : server.limiter.peek();
            server.headers.applyLimited(h, anthropic, s, server.options.rateLimitDraftHeaders());
        } else {
            server.headers.apply(h, anthropic, tokens, code == 429);
        }
        if (rateLimit != null && !rateLimit.admitted()) {
            h.set("retry-after", rateLimit.retryAfterSeconds());
            h.set("retry-after-ms", rateLimit.retryAfterMs());
        } else if (code == 429 || code == 503 || code == 529) {
            long ms = behavior.retryAfterMs();
            h.set("retry-after", (ms + 999) / 1000);
            h.set("retry-after-ms", ms);
        }
        if (behavior.shouldRetry() != null) {
            h.set("x-should-retry", behavior.shouldRetry().toString());
        }
        if (behavior.malformed() == Malformation.OVERSIZED_HEADERS) {
            for (int i = 0; i < PADDING_HEADERS; i++) {
                h.add("x-mock-padding-" + i, PADDING_VALUE);
            }
        }
        if (!http2) {
            if (keepAlive) {
                long idleMs = server.options.idleTimeout().toMillis();
                if (idleMs > 0) {
                    // Rounded up: "timeout=0" would tell the client not to reuse the connection at all.
                    h.set("keep-alive", "timeout=" + (idleMs + 999) / 1000);
                }
            } else {
                h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
        }
        return h;
    }

    /** Marks the response complete; {@code lastWrite} (may be null) gates a Connection: close. */
    private void finish(ChannelFuture lastWrite) {
        if (finished) {
            return;
        }
        finished = true;
        if (!http2 && !keepAlive) {
            if (lastWrite != null) {
                // Closing only after the last write completes, or pending bytes would be discarded.
                lastWrite.addListener(io.netty.channel.ChannelFutureListener.CLOSE);
            } else {
                ctx.channel().close();
            }
        }
        onFinish.run();
    }
}

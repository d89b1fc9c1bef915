package io.sluice.http.internal.transport;

import io.sluice.http.spi.TlsFailures;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.sluice.http.HttpRequest;
import io.sluice.http.LimitExceededException;
import io.sluice.http.Limits;
import io.sluice.http.Protocol;
import io.sluice.http.ProtocolException;
import io.sluice.http.Route;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An HTTP/1.1 connection: keep-alive, one exchange at a time, no pipelining.
 *
 * <ul>
 *   <li>A response not read to its end (cancelled, failed, timed out) closes the
 *   connection: the next response would start with the rest of this one.</li>
 *   <li>{@code Keep-Alive: timeout=N} is honoured: an idle connection is retired one
 *   second (at most half the timeout) before the server would close it, so a request
 *   never races the server's close.</li>
 *   <li>An idle channel is read (auto-read stays on), so a peer close is seen at once and
 *   the pool told through {@link ConnectionObserver}.</li>
 *   <li>The response header section is bounded by {@link Limits#maxHeaderBlockBytes()}.</li>
 * </ul>
 *
 * <p><b>Thread-safety:</b> exchange state is confined to the event loop; the flags the
 * pool reads ({@link #capacity()}, {@link #isBroken()}) are volatile.
 */
public final class Http1Connection extends HttpConnection {

    private static final Logger LOG = LoggerFactory.getLogger(Http1Connection.class);

    private final EventLoop loop;
    private final Limits limits;
    private volatile boolean broken;
    private volatile boolean busy;
    /** When an idle connection must be retired (Keep-Alive timeout minus a margin); MAX_VALUE when none. */
    private volatile long expiresAtNanos = Long.MAX_VALUE;

    // --- event-loop confined
    private H1Exchange current;
    private boolean responseBytesSeen;
    private Throwable lastError;
    private ScheduledFuture<?> keepAliveTimer;

    /** Whether requests without their own accept-encoding offer gzip and deflate (the client inflates). */
    private final boolean acceptCompressed;

    private Http1Connection(Route route, Channel channel, ConnectionObserver observer, Limits limits,
                            boolean acceptCompressed) {
        super(route, channel, observer);
        this.loop = channel.eventLoop();
        this.limits = limits;
        this.acceptCompressed = acceptCompressed;
    }

    /** Adds the HTTP/1.1 handlers to a connected (and, for https, handshaken) channel. Call on the event loop. */
    static Http1Connection install(Channel ch, Route route, TransportSettings settings, ConnectionObserver observer) {
        Http1Connection c = new Http1Connection(route, ch, observer, settings.limits(), settings.acceptCompressed());
        HttpDecoderConfig cfg = new HttpDecoderConfig()
                .setMaxInitialLineLength(8192)
                .setMaxHeaderSize(settings.limits().maxHeaderBlockBytes())
                .setMaxChunkSize(64 * 1024);
        ch.pipeline().addLast("h1-bytes", c.new ByteWatch());
        ch.pipeline().addLast("h1-codec", new HttpClientCodec(cfg, false, false));
        ch.pipeline().addLast("h1", c.new Handler());
        return c;
    }

    @Override
    public Protocol protocol() {
        return Protocol.HTTP_1_1;
    }

    @Override
    public int capacity() {
        return isBroken() ? 0 : 1;
    }

    @Override
    public boolean isBroken() {
        return broken || !channel.isActive() || (!busy && System.nanoTime() - expiresAtNanos > 0);
    }

    @Override
    public CompletableFuture<Void> validate() {
        // No request is spent on a probe: an open, unbroken channel whose reads are on has
        // not seen the peer's FIN; anything else fails and the pool opens a new one.
        return isBroken()
                ? CompletableFuture.failedFuture(new ConnectionClosedException("connection closed", true, lastError))
                : CompletableFuture.completedFuture(null);
    }

    @Override
    Exchange newExchange(HttpRequest request, ExchangeListener listener, boolean reused) {
        return new H1Exchange(request, listener, reused);
    }

    @Override
    void begin(Exchange exchange) {
        H1Exchange ex = (H1Exchange) exchange;
        if (ex.cancelReason != null) {
            ex.done = true; // cancelled before a byte was written: nothing goes on the wire
            ex.listener.onFailure(ex.cancelReason);
            return;
        }
        if (current != null) {
            ex.listener.onFailure(new IllegalStateException("HTTP/1.1 connection already has an exchange: "
                    + "two leases on one exclusive connection"));
            return;
        }
        if (broken || !channel.isActive() || System.nanoTime() - expiresAtNanos > 0) {
            // Found dead at the last moment: nothing was sent, so replaying is safe.
            broken = true;
            ex.done = true;
            ex.listener.onFailure(new UnprocessedRequestException(UnprocessedRequestException.Reason.NOT_SENT,
                    "connection closed before the request was sent", lastError));
            return;
        }
        current = ex;
        busy = true;
        expiresAtNanos = Long.MAX_VALUE;
        if (keepAliveTimer != null) {
            keepAliveTimer.cancel(false);
            keepAliveTimer = null;
        }
        responseBytesSeen = false;
        writeRequest(ex);
    }

    private void writeRequest(H1Exchange ex) {
        HttpRequest r = ex.request;
        DefaultHttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(r.method()),
                r.pathAndQuery());
        head.headers().set(HttpHeaderNames.HOST, route.authority());
        r.headers().forEach((n, v) -> {
            if (n.equals("host")) {
                head.headers().set(HttpHeaderNames.HOST, v); // an explicit Host wins over the URI's authority
            } else {
                head.headers().add(n, v);
            }
        });
        if (acceptCompressed && !r.headers().contains("accept-encoding")) {
            head.headers().set(HttpHeaderNames.ACCEPT_ENCODING, TransportSettings.ACCEPT_ENCODING); // the client inflates
        }
        byte[] bytes = r.bodyBytes();
        if (bytes != null) {
            head.headers().set(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
            channel.write(head);
            lastPartWritten(ex, channel.writeAndFlush(new DefaultLastHttpContent(Unpooled.wrappedBuffer(bytes))));
            ex.requestSent = true;
        } else if (r.bodyPublisher() != null) {
            if (r.contentLength() >= 0) {
                head.headers().set(HttpHeaderNames.CONTENT_LENGTH, r.contentLength());
            } else {
                head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
            writeFailureCloses(channel.writeAndFlush(head));
            ex.bodyWriter = new RequestBodyWriter(loop, channel.alloc(), new RequestBodyWriter.Sink() {
                @Override
                public ChannelFuture write(ByteBuf chunk, boolean last) {
                    if (current != ex) {
                        chunk.release();
                        return channel.newFailedFuture(new IllegalStateException("exchange over"));
                    }
                    HttpContent c = last ? new DefaultLastHttpContent(chunk) : new DefaultHttpContent(chunk);
                    if (last) {
                        ex.requestSent = true;
                    }
                    ChannelFuture f = channel.writeAndFlush(c);
                    if (last) {
                        lastPartWritten(ex, f);
                    } else {
                        writeFailureCloses(f);
                    }
                    return f;
                }

                @Override
                public void bodyFailed(Throwable cause) {
                    if (current == ex) {
                        fail(ex, cause); // closes the connection: the server has a part of the body
                    }
                }
            }, r.contentLength(), route.toString());
            r.bodyPublisher().subscribe(ex.bodyWriter);
        } else {
            if (r.method().equals("POST") || r.method().equals("PUT") || r.method().equals("PATCH")) {
                head.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
            }
            channel.write(head);
            lastPartWritten(ex, channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
            ex.requestSent = true;
        }
    }

    private void lastPartWritten(H1Exchange ex, ChannelFuture f) {
        f.addListener(w -> {
            if (w.isSuccess()) {
                ex.requestWritten = true;
                ex.listener.onRequestWritten();
            }
        });
        writeFailureCloses(f);
    }

    private void writeFailureCloses(ChannelFuture f) {
        f.addListener(w -> {
            if (!w.isSuccess()) {
                lastError = w.cause();
                channel.close(); // channelInactive fails the exchange with the right "before response" flag
            }
        });
    }

    private void onResponse(H1Exchange ex, HttpResponse resp) {
        if (resp.decoderResult().isFailure()) {
            Throwable cause = resp.decoderResult().cause();
            fail(ex, cause instanceof TooLongFrameException
                    ? new LimitExceededException(route.toString(), LimitExceededException.Limit.HEADER_BLOCK,
                    limits.maxHeaderBlockBytes())
                    : new ProtocolException(route.toString(), "malformed HTTP/1.1 response: " + cause.getMessage(), cause));
            return;
        }
        int status = resp.status().code();
        if (status >= 100 && status < 200 && status != 101) {
            return; // interim response (100 Continue, 103 Early Hints): the final one follows
        }
        ex.keepAlive = HttpUtil.isKeepAlive(resp); // HTTP/1.1 without "close", or HTTP/1.0 with keep-alive
        ex.keepAliveTimeoutMillis = keepAliveTimeoutMillis(resp.headers().get(HttpHeaderNames.KEEP_ALIVE));
        ex.headersReceived = true;
        ex.listener.onHeaders(status, HeaderConversions.fromHttp1(resp.headers()));
    }

    /** The {@code timeout=} parameter of a Keep-Alive header in milliseconds, or -1. */
    static long keepAliveTimeoutMillis(String keepAlive) {
        if (keepAlive == null) {
            return -1;
        }
        for (String part : keepAlive.split(",")) {
            String p = part.trim().toLowerCase(Locale.ROOT);
            if (p.startsWith("timeout=")) {
                try {
                    return Long.parseLong(p.substring(8).trim()) * 1000;
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }

    private void onContent(H1Exchange ex, HttpContent content) {
        if (content.decoderResult().isFailure()) {
            content.release();
            Throwable cause = content.decoderResult().cause();
            fail(ex, new ProtocolException(route.toString(), "malformed HTTP/1.1 response body: " + cause.getMessage(),
                    cause));
            return;
        }
        ByteBuf data = content.content();
        if (data.isReadable()) {
            ex.listener.onData(data); // hands our reference over
        } else {
            data.release();
        }
        if (content instanceof LastHttpContent) {
            finish(ex);
        }
    }

    private void finish(H1Exchange ex) {
        ex.done = true;
        current = null;
        busy = false;
        channel.config().setAutoRead(true); // an idle connection must see the peer's FIN
        boolean reusable = ex.keepAlive && ex.requestSent && channel.isActive() && !broken;
        if (reusable) {
            long t = ex.keepAliveTimeoutMillis;
            if (t == 0) {
                reusable = false;
            } else if (t > 0) {
                long margin = Math.min(1000, t / 2);
                long after = t - margin;
                expiresAtNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(after);
                keepAliveTimer = loop.schedule(this::notifyChanged, after, TimeUnit.MILLISECONDS);
            }
        }
        if (!reusable) {
            broken = true;
            if (ex.bodyWriter != null) {
                ex.bodyWriter.cancel();
            }
        }
        ex.listener.onComplete();
        if (!reusable) {
            channel.close();
        }
    }

    /** Ends the exchange with {@code cause} and closes the connection: the response was not read to its end. */
    private void fail(H1Exchange ex, Throwable cause) {
        if (ex.done) {
            return;
        }
        ex.done = true;
        if (current == ex) {
            current = null;
            busy = false;
        }
        broken = true;
        if (ex.bodyWriter != null) {
            ex.bodyWriter.cancel();
        }
        channel.close();
        ex.listener.onFailure(cause);
    }

    /** Notes that response bytes arrived for the current exchange (stale-connection replay rule). */
    private final class ByteWatch extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            responseBytesSeen = true;
            ctx.fireChannelRead(msg);
        }
    }

    /** Receives decoded response parts and channel events. */
    private final class Handler extends ChannelDuplexHandler {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            H1Exchange ex = current;
            if (ex == null || !(msg instanceof HttpObject)) {
                // Bytes nobody asked for: the stream is out of step; never reuse it.
                ReferenceCountUtil.release(msg);
                broken = true;
                ctx.close();
                return;
            }
            if (msg instanceof HttpResponse resp) {
                onResponse(ex, resp);
                if (ex.done || !ex.headersReceived) {
                    ReferenceCountUtil.release(msg); // failed, or an interim response
                    return;
                }
            }
            if (msg instanceof HttpContent content) {
                onContent(ex, content);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            broken = true;
            if (keepAliveTimer != null) {
                keepAliveTimer.cancel(false);
            }
            H1Exchange ex = current;
            if (ex != null) {
                Throwable cause = ex.cancelReason != null ? ex.cancelReason
                        : !responseBytesSeen && TlsFailures.isTlsFailure(lastError)
                        // TLS 1.3: a refused client certificate is reported after our side of the handshake ended
                        ? TlsFailures.classify(route.toString(), lastError)
                        : new ConnectionClosedException("connection closed by the peer during the exchange",
                        !responseBytesSeen, ex.requestWritten, lastError);
                fail(ex, cause);
            }
            notifyChanged();
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("{}: connection error: {}", route, cause.toString());
            lastError = cause;
            broken = true;
            ctx.close();
        }
    }

    /** One request/response on this connection. Fields are event-loop confined. */
    private final class H1Exchange implements Exchange {
        final HttpRequest request;
        final ExchangeListener listener;
        final boolean reused;
        boolean headersReceived;
        boolean done;
        boolean requestSent;
        boolean requestWritten;
        boolean keepAlive;
        long keepAliveTimeoutMillis = -1;
        /** Written by {@link #cancel} from any thread before its task is queued; read on the loop. */
        volatile Throwable cancelReason;
        RequestBodyWriter bodyWriter;

        H1Exchange(HttpRequest request, ExchangeListener listener, boolean reused) {
            this.request = request;
            this.listener = listener;
            this.reused = reused;
        }

        @Override
        public void cancel(Throwable reason) {
            if (cancelReason == null) {
                cancelReason = reason; // begin() checks it when it has not run yet
            }
            loop.execute(() -> {
                if (!done && current == this) {
                    fail(this, reason);
                }
            });
        }

        @Override
        public void bytesConsumed(int bytes) {
            // TCP flow control follows from auto-read; nothing to credit.
        }

        @Override
        public void readingWanted(boolean wanted) {
            try {
                loop.execute(() -> {
                    if (!done && current == this) {
                        channel.config().setAutoRead(wanted);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                // the client closed (a body that had fully arrived is read after a graceful close): nothing to read
            }
        }

        @Override
        public EventExecutor executor() {
            return loop;
        }

        @Override
        public boolean connectionReused() {
            return reused;
        }
    }
}

package io.sluice.http.internal.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.compression.JdkZlibDecoder;
import io.netty.handler.codec.compression.ZlibWrapper;
import io.netty.util.concurrent.EventExecutor;
import io.sluice.http.Headers;
import io.sluice.http.LimitExceededException;
import io.sluice.http.ProtocolException;
import io.sluice.http.SluiceHttpException;
import io.sluice.http.internal.transport.Exchange;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Inflates a {@code gzip} or {@code deflate} response body that the client asked for (it sent
 * {@code accept-encoding: gzip, deflate} because the caller set no {@code accept-encoding} of
 * its own), so that callers read the body as the provider produced it.
 *
 * <ul>
 *   <li><b>Limit.</b> The body limit counts inflated bytes: a small body that inflates past it
 *   (a decompression bomb) fails with {@link LimitExceededException} (BODY) and the exchange is
 *   cancelled, freeing its connection (HTTP/2: the stream). Each network frame is inflated in
 *   steps bounded by what is left of the limit, so a bomb holds at most the limit plus one step
 *   (about 64 KiB), not a whole frame's output (16 MiB for one 16 KiB HTTP/2 frame).</li>
 *   <li><b>Flow control.</b> HTTP/2 credits the stream window as the caller consumes chunks.
 *   The caller consumes inflated bytes, the window counts compressed ones: {@link #exchange()}
 *   credits each network frame's compressed bytes once the caller has consumed all the inflated
 *   bytes it produced, so back-pressure still reaches the server.</li>
 *   <li><b>Integrity.</b> A corrupt stream, or one that ends before its end (a truncated gzip
 *   member, a missing trailer), is a {@link ProtocolException}.</li>
 * </ul>
 *
 * <p><b>Thread-safety:</b> {@link #decode} and {@link #finish} run on the exchange's event loop
 * only; {@link #exchange()}'s {@code bytesConsumed} may be called from any thread (a short lock
 * guards the credit map). <b>Ownership:</b> takes ownership of every buffer passed to
 * {@link #decode}; hands each inflated buffer to the sink, which owns it.
 */
final class BodyDecoder {
    /** Deflate's largest expansion: a 258-byte match in about two bits, 1032:1 (zlib's technical notes). */
    private static final int MAX_DEFLATE_RATIO = 1032;
    /** The smallest step of compressed input (at most 66 KiB of output). */
    private static final int MIN_STEP = 64;

    private final String route;
    private final Exchange network;
    private final long maxInflated;
    private final EmbeddedChannel inflater;
    private final JdkZlibDecoder zlib;
    private long inflated;
    /** Credit map: {cumulative inflated bytes at the end of a frame's output, that frame's compressed bytes}. */
    private final ArrayDeque<long[]> frames = new ArrayDeque<>();
    /** Inflated bytes the caller has consumed; guarded by {@link #frames}. */
    private long consumed;
    private final Exchange decoded;

    /** {@code alloc} makes the inflated buffers (the default one in production; a counting one in tests). */
    BodyDecoder(String route, Exchange network, ZlibWrapper wrapper, long maxInflated, ByteBufAllocator alloc) {
        this.route = route;
        this.network = network;
        this.maxInflated = maxInflated;
        this.zlib = new JdkZlibDecoder(wrapper, 0);
        this.inflater = new EmbeddedChannel(zlib);
        this.inflater.config().setAllocator(alloc);
        this.decoded = new CreditingExchange();
    }

    /**
     * A decoder for the response's single content coding when it is one the client asked for
     * ({@code gzip}, {@code x-gzip}, {@code deflate}); null otherwise (no coding, {@code identity},
     * or a coding the client did not offer, which is passed on as it came).
     */
    static BodyDecoder forResponse(String route, Headers headers, Exchange network, long maxInflated) {
        String coding = headers.get("content-encoding");
        if (coding == null) {
            return null;
        }
        ZlibWrapper wrapper = switch (coding.trim().toLowerCase(Locale.ROOT)) {
            case "gzip", "x-gzip" -> ZlibWrapper.GZIP;
            case "deflate" -> ZlibWrapper.ZLIB_OR_NONE; // RFC 9110 says zlib; some servers send raw deflate
            default -> null;
        };
        return wrapper == null ? null : new BodyDecoder(route, network, wrapper, maxInflated, ByteBufAllocator.DEFAULT);
    }

    /** The response head as the caller sees it: no content coding, no (compressed) length. */
    static Headers decodedHeaders(Headers h) {
        return h.toBuilder().remove("content-encoding").remove("content-length").build();
    }

    /** The exchange the response body credits: inflated bytes consumed become compressed bytes credited. */
    Exchange exchange() {
        return decoded;
    }

    /** Inflates {@code data} (released) and hands each inflated buffer to {@code sink}. */
    void decode(ByteBuf data, Consumer<ByteBuf> sink) throws SluiceHttpException {
        int compressed = data.readableBytes();
        long before = inflated;
        java.util.List<ByteBuf> out = new java.util.ArrayList<>();
        try {
            // The inflater turns all the input it is given into output before it returns (one 16 KiB HTTP/2
            // frame of a gzip bomb is 16 MiB), so the limit could only be checked after the whole frame was
            // inflated. It is given the frame in steps instead, each small enough that even the densest
            // deflate stream cannot take the output further than one step past the limit.
            while (data.isReadable()) {
                ByteBuf step = data.readRetainedSlice(stepSize(data.readableBytes()));
                try {
                    inflater.writeInbound(step);
                } catch (RuntimeException e) { // DecompressionException, possibly wrapped by the channel
                    releaseQueued();
                    throw new ProtocolException(route, "the compressed response body is corrupt: " + e.getMessage(), e);
                }
                drain(out::add); // count (and limit-check) this frame's output before the sink can consume any of it
            }
        } catch (SluiceHttpException e) {
            for (ByteBuf b : out) {
                b.release(); // inflated before the limit was crossed: nobody will read them now
            }
            throw e;
        } finally {
            data.release();
        }
        if (inflated == before) {
            network.bytesConsumed(compressed); // nothing for the caller to consume: the window moves on now
        } else {
            synchronized (frames) {
                frames.add(new long[] {inflated, compressed});
            }
        }
        for (ByteBuf b : out) {
            sink.accept(b);
        }
    }

    /** The body ended: a stream that did not reach its end is truncated. */
    void finish(Consumer<ByteBuf> sink) throws SluiceHttpException {
        drain(sink);
        boolean complete = zlib.isClosed();
        release();
        if (!complete) {
            throw new ProtocolException(route, "the compressed response body ended before its end (truncated)", null);
        }
    }

    /** Frees the inflater (the body failed or was cancelled). Idempotent. */
    void release() {
        try {
            inflater.finishAndReleaseAll();
        } catch (RuntimeException alreadyReported) {
            // a decode failure recorded by the embedded channel is rethrown on close: already reported
        }
    }

    /**
     * How many compressed bytes the next step inflates: as many as cannot inflate past the limit (deflate expands
     * at most {@value #MAX_DEFLATE_RATIO}:1), so an ordinary body far from it goes in one step, and at least
     * {@value #MIN_STEP}, so one step past the limit is at most about 64 KiB of output.
     */
    private int stepSize(int readable) {
        long budget = Math.max(0, maxInflated - inflated) / MAX_DEFLATE_RATIO;
        return (int) Math.min(readable, Math.max(MIN_STEP, budget));
    }

    private void drain(Consumer<ByteBuf> sink) throws SluiceHttpException {
        for (ByteBuf out; (out = inflater.readInbound()) != null; ) {
            inflated += out.readableBytes();
            if (inflated > maxInflated) {
                out.release();
                releaseQueued();
                throw new LimitExceededException(route, LimitExceededException.Limit.BODY, maxInflated);
            }
            sink.accept(out);
        }
    }

    private void releaseQueued() {
        for (Object o; (o = inflater.readInbound()) != null; ) {
            io.netty.util.ReferenceCountUtil.release(o);
        }
    }

    /** Passes everything to the network exchange but maps inflated bytes consumed to compressed bytes credited. */
    private final class CreditingExchange implements Exchange {
        @Override
        public void cancel(Throwable reason) {
            network.cancel(reason);
        }

        @Override
        public void bytesConsumed(int bytes) {
            long credit = 0;
            synchronized (frames) {
                consumed += bytes;
                while (!frames.isEmpty() && frames.peekFirst()[0] <= consumed) {
                    credit += frames.pollFirst()[1];
                }
            }
            if (credit > 0) {
                network.bytesConsumed((int) credit);
            }
        }

        @Override
        public void readingWanted(boolean wanted) {
            network.readingWanted(wanted);
        }

        @Override
        public boolean connectionReused() {
            return network.connectionReused();
        }

        @Override
        public EventExecutor executor() {
            return network.executor();
        }
    }
}

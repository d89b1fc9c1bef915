package io.sluice.http;

import io.sluice.http.sse.SseEvent;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;

/**
 * A response whose headers have arrived and whose body is still coming. The body is
 * consumed exactly one way: pulled chunk by chunk ({@link #readChunk()}), subscribed to
 * ({@link #body()}), parsed as server-sent events ({@link #nextEvent()} /
 * {@link #events()}), or aggregated ({@link #aggregate()}).
 *
 * <p>The pool slot is held until the body has been received to its end, fails, or the
 * response is {@linkplain #close() closed}: closing early resets the HTTP/2 stream (CANCEL)
 * or closes the HTTP/1.1 connection, and frees the slot. Always close a response you do
 * not read to its end (try-with-resources); closing after the end is harmless.
 *
 * <p>Body reads fail with {@link RequestTimeoutException} (BODY_IDLE when the server sends
 * nothing for the body-idle timeout while the caller waits, TOTAL at the overall deadline),
 * {@link ConnectionLostException}, {@link ProtocolException} or {@link LimitExceededException}.
 *
 * <p><b>Thread-safety:</b> thread-safe, but reads are sequential: at most one
 * {@link #readChunk()} or {@link #nextEvent()} may be outstanding at a time. Futures may
 * complete on the client's callback executor; an already available chunk completes at once
 * on the caller's thread.
 */
public interface StreamingResponse extends AutoCloseable {

    int status();

    Headers headers();

    /** The negotiated protocol: {@code h2} or {@code http/1.1}. */
    Protocol protocol();

    /**
     * The next chunk of the body, or null at its end. The caller owns the chunk and must
     * close it (see {@link BodyChunk}).
     */
    CompletableFuture<BodyChunk> readChunk();

    /**
     * The body as a single-subscriber publisher with {@code request(n)} back-pressure. Each
     * {@link ByteBuffer} is a read-only view of the network buffer, valid only during
     * {@code onNext}: the buffer is released when {@code onNext} returns, so copy what you
     * keep. Cancelling the subscription closes the response.
     */
    Flow.Publisher<ByteBuffer> body();

    /** The next server-sent event, or null when the stream ended. Lines longer than the SSE limit fail. */
    CompletableFuture<SseEvent> nextEvent();

    /** The server-sent events as a single-subscriber publisher; cancelling closes the response. */
    Flow.Publisher<SseEvent> events();

    /** Reads the rest of the body into memory, bounded by the aggregated-body limit. */
    CompletableFuture<HttpResponse> aggregate();

    /** {@link #aggregate()}, waiting; failures are thrown as {@link SluiceHttpException}. */
    HttpResponse aggregateBlocking();

    /** {@link #readChunk()}, waiting; failures are thrown as {@link SluiceHttpException}. */
    BodyChunk readChunkBlocking();

    /** {@link #nextEvent()}, waiting; failures are thrown as {@link SluiceHttpException}. */
    SseEvent nextEventBlocking();

    /** Stops the body: frees the slot at once; chunks already handed out stay valid until closed. Idempotent. */
    @Override
    void close();
}

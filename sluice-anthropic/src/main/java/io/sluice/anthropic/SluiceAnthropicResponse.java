package io.sluice.anthropic;

import io.sluice.http.sdk.ChunkInputStream;
import com.anthropic.core.http.Headers;
import com.anthropic.core.http.HttpResponse;
import io.sluice.http.StreamingResponse;
import java.io.InputStream;

/**
 * The SDK's view of a Sluice response: status and headers at once, the body as a live stream.
 * Closing it before the end of the body frees the pool slot (RST_STREAM on HTTP/2).
 *
 * <p><b>Thread-safety:</b> headers are immutable; the body is read by one thread, closed by any.
 * <b>Ownership:</b> owns the body stream and through it the exchange.
 */
final class SluiceAnthropicResponse implements HttpResponse {

    private final int status;
    private final Headers headers;
    private final InputStream body;

    SluiceAnthropicResponse(StreamingResponse response, InputStream body) {
        this.status = response.status();
        Headers.Builder h = Headers.builder();
        response.headers().forEach(h::put);
        this.headers = h.build();
        this.body = body;
    }

    @Override
    public int statusCode() {
        return status;
    }

    @Override
    public Headers headers() {
        return headers;
    }

    @Override
    public InputStream body() {
        return body;
    }

    @Override
    public void close() {
        try {
            body.close();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e); // ChunkInputStream.close does not throw; kept for the contract
        }
    }

    @Override
    public String toString() {
        return "SluiceAnthropicResponse[" + status + "]";
    }
}

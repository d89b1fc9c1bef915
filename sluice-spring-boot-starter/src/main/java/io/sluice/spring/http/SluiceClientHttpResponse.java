package io.sluice.spring.http;

import io.sluice.http.StreamingResponse;
import io.sluice.http.sdk.ChunkInputStream;
import java.io.InputStream;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.client.ClientHttpResponse;

/**
 * A blocking response whose body is live ({@link ChunkInputStream}: each chunk released once read). Read by one
 * thread; {@link #close()} from any. Owns the exchange: closing before the end of the body frees the pool slot
 * (RST_STREAM on HTTP/2, a closed connection on HTTP/1.1).
 */
final class SluiceClientHttpResponse implements ClientHttpResponse {

    private final StreamingResponse response;
    private final HttpHeaders headers;
    private final ChunkInputStream body;

    SluiceClientHttpResponse(StreamingResponse response) {
        this.response = response;
        this.headers = SpringHeaders.toSpring(response.headers());
        this.body = new ChunkInputStream(response, () -> { });
    }

    @Override
    public HttpStatusCode getStatusCode() {
        return HttpStatusCode.valueOf(response.status());
    }

    @Override
    public String getStatusText() {
        HttpStatus known = HttpStatus.resolve(response.status());
        return known == null ? "" : known.getReasonPhrase(); // HTTP/2 has no reason phrase on the wire
    }

    @Override
    public HttpHeaders getHeaders() {
        return headers;
    }

    @Override
    public InputStream getBody() {
        return body;
    }

    @Override
    public void close() {
        body.close();
        response.close(); // harmless after the end; frees the slot when the body was not read through
    }
}

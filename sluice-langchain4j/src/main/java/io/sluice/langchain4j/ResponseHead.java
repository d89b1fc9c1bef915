package io.sluice.langchain4j;

import io.sluice.http.sdk.ChunkInputStream;
import dev.langchain4j.http.client.SuccessfulHttpResponse;
import io.sluice.http.StreamingResponse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A response whose headers have arrived, with its body as a live stream.
 *
 * <p><b>Thread-safety:</b> status and headers are immutable; the body is read by one thread.
 * <b>Ownership:</b> owns the body stream; {@link #close()} frees the slot if the body has not ended.
 */
final class ResponseHead implements AutoCloseable {

    private final int status;
    private final Map<String, List<String>> headers;
    private final InputStream body;

    ResponseHead(StreamingResponse response, InputStream body) {
        this.status = response.status();
        this.headers = response.headers().asMap();
        this.body = body;
    }

    int status() {
        return status;
    }

    InputStream body() {
        return body;
    }

    boolean successful() {
        return status >= 200 && status < 300;
    }

    /** The body decoded with the charset of {@code content-type}, UTF-8 when it names none or an unknown one. */
    String decode(byte[] bytes) {
        return new String(bytes, charset());
    }

    private Charset charset() {
        List<String> ct = headers.get("content-type");
        if (ct != null && !ct.isEmpty()) {
            for (String param : ct.get(0).split(";")) {
                String p = param.trim();
                if (p.toLowerCase(Locale.ROOT).startsWith("charset=")) {
                    try {
                        return Charset.forName(p.substring(8).replace("\"", "").trim());
                    } catch (IllegalArgumentException unknown) {
                        return StandardCharsets.UTF_8;
                    }
                }
            }
        }
        return StandardCharsets.UTF_8;
    }

    /** A successful response for LangChain4j; {@code body} may be null (SSE: the events carry it). */
    SuccessfulHttpResponse toResponse(String body) {
        return SuccessfulHttpResponse.builder().statusCode(status).headers(headers).body(body).build();
    }

    @Override
    public void close() {
        try {
            body.close();
        } catch (IOException e) {
            // ChunkInputStream.close does not throw; nothing to do for a stream we are abandoning
        }
    }
}

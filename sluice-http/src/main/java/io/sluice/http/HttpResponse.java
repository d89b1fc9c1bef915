package io.sluice.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A complete response: status, headers, the whole body and the protocol it came over.
 *
 * <p><b>Thread-safety:</b> immutable; {@link #body()} returns a copy and
 * {@link #bodyBuffer()} a read-only view.
 */
public final class HttpResponse {

    private final int status;
    private final Headers headers;
    private final byte[] body;
    private final Protocol protocol;

    /** The body array is taken over, not copied: callers of this constructor must not keep it. */
    public HttpResponse(int status, Headers headers, byte[] body, Protocol protocol) {
        this.status = status;
        this.headers = headers;
        this.body = body;
        this.protocol = protocol;
    }

    public int status() {
        return status;
    }

    public Headers headers() {
        return headers;
    }

    /** A copy of the body bytes. */
    public byte[] body() {
        return body.clone();
    }

    /** The body as a read-only buffer, without copying. */
    public ByteBuffer bodyBuffer() {
        return ByteBuffer.wrap(body).asReadOnlyBuffer();
    }

    /** The body decoded as UTF-8. */
    public String bodyAsString() {
        return new String(body, StandardCharsets.UTF_8);
    }

    /** Body length in bytes. */
    public int bodyLength() {
        return body.length;
    }

    /** The negotiated protocol: {@code h2} or {@code http/1.1}. */
    public Protocol protocol() {
        return protocol;
    }

    @Override
    public String toString() {
        return "HttpResponse[" + status + ", " + protocol + ", " + body.length + " bytes, " + headers + "]";
    }
}

package io.sluice.http;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import io.sluice.http.spi.Redaction;
import io.sluice.http.spi.RequestValidator;
import java.util.concurrent.Flow;

/**
 * One HTTP request: method, absolute URI, headers, an optional body and optional
 * per-request timeout overrides (null means "the client's default").
 *
 * <p>A body is either a byte array (copied on build, replayable at no cost) or a
 * {@link Flow.Publisher} of {@link ByteBuffer}s. A publisher body must support being
 * subscribed to again: the transport re-subscribes when it replays a request the server
 * never processed (GOAWAY, REFUSED_STREAM, stale connection). The transport reads each
 * published buffer before requesting the next and does not keep it afterwards.
 *
 * <p>{@link #toString()} shows the method, the URI with key-like query parameters redacted
 * and the headers with credential values redacted.
 *
 * <p><b>Thread-safety:</b> immutable (the body publisher is the caller's object; it is
 * only subscribed to). The {@link Builder} is not thread-safe.
 */
public final class HttpRequest {

    private final String method;
    private final URI uri;
    private final Route route;
    private final Headers headers;
    private final byte[] body;
    private final Flow.Publisher<ByteBuffer> bodyPublisher;
    private final long contentLength;
    private final Duration headersTimeout;
    private final Duration bodyIdleTimeout;
    private final Duration totalTimeout;
    private final Duration acquireTimeout;
    /** The caller declared the request idempotent (it carries an idempotency key, or repeating it is harmless). */
    private final boolean markedIdempotent;
    /** Status retries for this request: null means "as the client is configured", FALSE turns them off. */
    private final Boolean statusRetries;

    private HttpRequest(Builder b) {
        this.method = RequestValidator.validateMethod(Objects.requireNonNull(b.method, "method"));
        this.uri = RequestValidator.validateHttpUri(Objects.requireNonNull(b.uri, "uri"));
        this.route = Route.of(uri);
        this.headers = b.headers.build();
        this.body = b.body;
        this.bodyPublisher = b.bodyPublisher;
        this.contentLength = framedLength(headers, b.body, b.bodyPublisher, b.contentLength);
        this.headersTimeout = positiveOrNull("headersTimeout", b.headersTimeout);
        this.bodyIdleTimeout = positiveOrNull("bodyIdleTimeout", b.bodyIdleTimeout);
        this.totalTimeout = positiveOrNull("totalTimeout", b.totalTimeout);
        this.acquireTimeout = positiveOrNull("acquireTimeout", b.acquireTimeout);
        this.markedIdempotent = b.markedIdempotent;
        this.statusRetries = b.statusRetries;
    }

    /** A builder for {@code GET uri}. */
    public static Builder newBuilder(URI uri) {
        return new Builder().uri(uri);
    }

    /** A builder for {@code GET uri}. */
    public static Builder newBuilder(String uri) {
        return newBuilder(URI.create(uri));
    }

    /** A builder holding this request's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.method = method;
        b.uri = uri;
        b.headers = headers.toBuilder();
        b.body = body;
        b.bodyPublisher = bodyPublisher;
        b.contentLength = contentLength;
        b.headersTimeout = headersTimeout;
        b.bodyIdleTimeout = bodyIdleTimeout;
        b.totalTimeout = totalTimeout;
        b.acquireTimeout = acquireTimeout;
        b.markedIdempotent = markedIdempotent;
        b.statusRetries = statusRetries;
        return b;
    }

    /** The method, upper case. */
    public String method() {
        return method;
    }

    public URI uri() {
        return uri;
    }

    /** The route (scheme, host, port) that picks the pool. */
    /**
     * The URI with user-info and key-like query and fragment parameters ({@code api_key}, {@code key},
     * {@code token}, ...) redacted: what logs, traces and metrics may carry.
     */
    public String redactedUri() {
        return io.sluice.http.spi.Redaction.redactUri(uri);
    }

    public Route route() {
        return route;
    }

    /** The path and query as sent on the wire ({@code /} when the URI has no path). */
    public String pathAndQuery() {
        String p = uri.getRawPath();
        if (p == null || p.isEmpty()) {
            p = "/";
        }
        String q = uri.getRawQuery();
        return q == null ? p : p + "?" + q;
    }

    public Headers headers() {
        return headers;
    }

    /**
     * Whether sending this request twice has the effect of sending it once: its method is idempotent
     * (RFC 9110 §9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE), the caller marked it with
     * {@link Builder#idempotent(boolean)}, or it carries an {@code Idempotency-Key} header (the provider then
     * deduplicates it). Only such a request is replayed after a connection lost once the request was written,
     * and only such a request gets status retries of a 5xx.
     */
    public boolean idempotent() {
        return markedIdempotent || io.sluice.http.retry.Methods.isIdempotent(method)
                || headers.contains("idempotency-key");
    }

    /**
     * Whether the client may retry this request on a retryable status (429, 503, ...): false when the request turned
     * them off with {@link Builder#statusRetries(boolean)}, otherwise whatever the client's policy says.
     */
    public boolean statusRetriesAllowed() {
        return statusRetries == null || statusRetries;
    }

    /** Whether there is a body (bytes or a publisher). */
    public boolean hasBody() {
        return body != null || bodyPublisher != null;
    }

    /** The body bytes, or null when the body is a publisher or absent. The array is shared: do not modify it. */
    public byte[] bodyBytes() {
        return body;
    }

    /** The body publisher, or null. */
    public Flow.Publisher<ByteBuffer> bodyPublisher() {
        return bodyPublisher;
    }

    /** The body length, -1 when a publisher's length is unknown (sent chunked on HTTP/1.1), 0 without a body. */
    public long contentLength() {
        return contentLength;
    }

    /** Bound on time-to-response-headers, or null for the client's default. */
    public Duration headersTimeout() {
        return headersTimeout;
    }

    /** Bound on the longest gap between response body bytes, or null for the client's default. */
    public Duration bodyIdleTimeout() {
        return bodyIdleTimeout;
    }

    /** Bound on the whole exchange including retries, or null for the client's default (off unless configured). */
    public Duration totalTimeout() {
        return totalTimeout;
    }

    /**
     * Bound on each wait for a connection slot of this request (a connect included), or null for the
     * pool's {@code connectionTimeout}; only a shorter bound has an effect. What an SDK's per-call
     * connect timeout means for a pooled client: how long until the request can be sent.
     */
    public Duration acquireTimeout() {
        return acquireTimeout;
    }

    @Override
    public String toString() {
        return method + " " + Redaction.redactUri(uri) + " " + headers;
    }

    /**
     * The body's length, reconciled with a {@code content-length} header the caller set. The transport frames the body
     * itself (Content-Length or chunked on HTTP/1.1, DATA frames on HTTP/2), so a header that disagrees with the body,
     * or a {@code transfer-encoding} header, would make the server read the message differently from what is sent: on
     * HTTP/1.1 the rest would be taken for the next request (request smuggling). Both are refused; a header on a
     * publisher of unknown length declares its length (and the transport then checks the publisher keeps to it).
     */
    private static long framedLength(Headers headers, byte[] body, Flow.Publisher<ByteBuffer> publisher,
                                     long publisherLength) {
        if (headers.contains("transfer-encoding")) {
            throw new InvalidRequestException("transfer-encoding is set by the client from the body; do not set it");
        }
        long bodyLength = body != null ? body.length : publisher != null ? publisherLength : 0;
        String declared = headers.get("content-length");
        if (declared == null) {
            return bodyLength;
        }
        long n;
        try {
            n = Long.parseLong(declared.trim());
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 0 || headers.all("content-length").size() > 1) {
            throw new InvalidRequestException("content-length header \"" + declared + "\" is not one non-negative number");
        }
        if (publisher != null && publisherLength < 0) {
            return n;
        }
        if (n != bodyLength) {
            throw new InvalidRequestException("content-length header says " + n + " but the body has " + bodyLength
                    + " bytes");
        }
        return bodyLength;
    }

    private static Duration positiveOrNull(String name, Duration d) {
        if (d != null && (d.isZero() || d.isNegative())) {
            throw new IllegalArgumentException(name + " must be positive, was " + d);
        }
        return d;
    }

    /**
     * Builds an {@link HttpRequest}; the method defaults to GET.
     *
     * <p><b>Thread-safety:</b> not thread-safe; confine to one thread.
     */
    public static final class Builder {
        private String method = "GET";
        private URI uri;
        private Headers.Builder headers = Headers.builder();
        private byte[] body;
        private Flow.Publisher<ByteBuffer> bodyPublisher;
        private long contentLength = -1;
        private Duration headersTimeout;
        private Duration bodyIdleTimeout;
        private Duration totalTimeout;
        private Duration acquireTimeout;
        private boolean markedIdempotent;
        private Boolean statusRetries;

        private Builder() {
        }

        public Builder uri(URI uri) {
            this.uri = uri;
            return this;
        }

        public Builder uri(String uri) {
            return uri(URI.create(uri));
        }

        public Builder method(String method) {
            this.method = method;
            return this;
        }

        public Builder GET() {
            return method("GET");
        }

        /** POST with a byte body (copied). */
        public Builder POST(byte[] body) {
            return method("POST").body(body);
        }

        /** POST with a UTF-8 body. */
        public Builder POST(String body) {
            return POST(body.getBytes(StandardCharsets.UTF_8));
        }

        /** Appends a header field; CR/LF/NUL in the value is rejected. */
        public Builder header(String name, String value) {
            headers.add(name, value);
            return this;
        }

        /** Replaces every field named {@code name}. */
        public Builder setHeader(String name, String value) {
            headers.set(name, value);
            return this;
        }

        public Builder headers(Headers h) {
            headers.addAll(h);
            return this;
        }

        /** A byte body; the array is copied. */
        public Builder body(byte[] bytes) {
            this.body = bytes == null ? null : bytes.clone();
            this.bodyPublisher = null;
            return this;
        }

        /** A streamed body of unknown length (chunked on HTTP/1.1); must be re-subscribable. */
        public Builder body(Flow.Publisher<ByteBuffer> publisher) {
            return body(publisher, -1);
        }

        /** A streamed body of {@code length} bytes (or -1 when unknown); must be re-subscribable. */
        public Builder body(Flow.Publisher<ByteBuffer> publisher, long length) {
            this.bodyPublisher = publisher;
            this.contentLength = length;
            this.body = null;
            return this;
        }

        public Builder headersTimeout(Duration d) {
            this.headersTimeout = d;
            return this;
        }

        public Builder bodyIdleTimeout(Duration d) {
            this.bodyIdleTimeout = d;
            return this;
        }

        public Builder totalTimeout(Duration d) {
            this.totalTimeout = d;
            return this;
        }

        /** See {@link HttpRequest#acquireTimeout()}; null for the pool's connectionTimeout. */
        public Builder acquireTimeout(Duration d) {
            this.acquireTimeout = d;
            return this;
        }

        /**
         * Declares that repeating this request is harmless (e.g. the provider deduplicates it by a key in its body).
         * An idempotent request that was written and then lost before any response byte is replayed once on a new
         * connection; any other request fails with {@link ConnectionLostException#possiblyProcessed()} true.
         */
        public Builder idempotent(boolean idempotent) {
            this.markedIdempotent = idempotent;
            return this;
        }

        /**
         * Turns the client's status retries (429, 503, 5xx of idempotent requests) off for this request with
         * {@code false}; {@code true} leaves them as the client is configured. Callers that retry on their own (the
         * official SDKs do) turn them off, so the two retry loops do not multiply.
         */
        public Builder statusRetries(boolean allowed) {
            this.statusRetries = allowed ? null : Boolean.FALSE;
            return this;
        }

        /** Validates and builds; throws {@link InvalidRequestException} for an invalid method, URI or header. */
        public HttpRequest build() {
            return new HttpRequest(this);
        }
    }
}

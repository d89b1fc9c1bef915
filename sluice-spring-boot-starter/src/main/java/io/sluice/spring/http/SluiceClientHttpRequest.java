package io.sluice.spring.http;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.SluiceHttpException;
import io.sluice.http.StreamingResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.StreamingHttpOutputMessage;
import org.springframework.http.client.AbstractStreamingClientHttpRequest;
import org.springframework.http.client.ClientHttpResponse;

/**
 * One blocking request over Sluice (see {@link SluiceClientHttpRequestFactory}). Not thread-safe: Spring uses a
 * request from one thread. Owns nothing until executed; then the response owns the exchange.
 */
final class SluiceClientHttpRequest extends AbstractStreamingClientHttpRequest {

    private final ConnectionPoolManager manager;
    private final URI uri;
    private final HttpMethod method;
    private final Duration readTimeout;
    private final Duration connectTimeout;
    private final Executor bodyWriter;

    SluiceClientHttpRequest(ConnectionPoolManager manager, URI uri, HttpMethod method, Duration readTimeout,
            Duration connectTimeout, Executor bodyWriter) {
        this.manager = manager;
        this.uri = uri;
        this.method = method;
        this.readTimeout = readTimeout;
        this.connectTimeout = connectTimeout;
        this.bodyWriter = bodyWriter;
    }

    @Override
    public HttpMethod getMethod() {
        return method;
    }

    @Override
    public URI getURI() {
        return uri;
    }

    @Override
    protected ClientHttpResponse executeInternal(HttpHeaders headers, StreamingHttpOutputMessage.Body body)
            throws IOException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).method(method.name());
        SpringHeaders.copyTo(headers, b);
        SpringHeaders.applyTimeouts(b, readTimeout, connectTimeout);
        if (body != null) {
            long length = SpringHeaders.contentLength(headers);
            if (body.repeatable() && length >= 0 && length <= SluiceClientHttpRequestFactory.BYTES_BODY_LIMIT) {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream((int) length);
                body.writeTo(bytes);
                b.body(bytes.toByteArray());
            } else {
                b.body(new OutputStreamBodyPublisher(body, bodyWriter), length);
            }
        }
        HttpRequest request;
        try {
            request = b.build();
        } catch (SluiceHttpException e) {
            throw new IOException(e.getMessage(), e);
        }
        CompletableFuture<StreamingResponse> pending = manager.stream(request);
        try {
            return new SluiceClientHttpResponse(pending.get());
        } catch (InterruptedException e) {
            pending.cancel(true);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for the response to " + method + " " + uri);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            // Spring turns an IOException into ResourceAccessException; the Sluice exception stays its cause.
            throw new IOException(cause.getMessage(), cause);
        }
    }
}

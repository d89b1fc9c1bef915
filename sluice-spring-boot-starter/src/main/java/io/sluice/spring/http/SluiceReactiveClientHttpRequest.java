package io.sluice.spring.http;

import io.sluice.http.HttpRequest;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.concurrent.Flow;
import org.reactivestreams.Publisher;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferFactory;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpCookie;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.client.reactive.AbstractClientHttpRequest;
import reactor.adapter.JdkFlowAdapter;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The reactive request WebClient fills in: headers, cookies and the body publisher are collected here and become a
 * Sluice request once WebClient commits. Used by one WebClient exchange at a time (Spring's contract); owns nothing.
 */
final class SluiceReactiveClientHttpRequest extends AbstractClientHttpRequest {

    private final HttpMethod method;
    private final URI uri;
    private final DataBufferFactory buffers;
    private final HttpHeaders applied = new HttpHeaders();
    private Flow.Publisher<ByteBuffer> body;

    SluiceReactiveClientHttpRequest(HttpMethod method, URI uri, DataBufferFactory buffers) {
        this.method = method;
        this.uri = uri;
        this.buffers = buffers;
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
    public DataBufferFactory bufferFactory() {
        return buffers;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getNativeRequest() {
        return (T) this;
    }

    @Override
    public Mono<Void> writeWith(Publisher<? extends DataBuffer> source) {
        // Copied out and released at once: Sluice reads each ByteBuffer before asking for the next and keeps none.
        Flux<ByteBuffer> bytes = Flux.from(source).map(db -> {
            try {
                ByteBuffer copy = ByteBuffer.allocate(db.readableByteCount());
                db.toByteBuffer(copy);
                return copy;
            } finally {
                DataBufferUtils.release(db);
            }
        });
        return doCommit(() -> {
            this.body = JdkFlowAdapter.publisherToFlowPublisher(bytes);
            return Mono.empty();
        });
    }

    @Override
    public Mono<Void> writeAndFlushWith(Publisher<? extends Publisher<? extends DataBuffer>> source) {
        return writeWith(Flux.from(source).concatMap(p -> p));
    }

    @Override
    public Mono<Void> setComplete() {
        return doCommit();
    }

    @Override
    protected void applyHeaders() {
        getHeaders().forEach((name, values) -> applied.addAll(name, values));
    }

    @Override
    protected void applyCookies() {
        StringBuilder cookie = new StringBuilder();
        for (java.util.List<HttpCookie> list : getCookies().values()) {
            for (HttpCookie c : list) {
                cookie.append(cookie.length() == 0 ? "" : "; ").append(c.getName()).append('=').append(c.getValue());
            }
        }
        if (cookie.length() > 0) {
            applied.add(HttpHeaders.COOKIE, cookie.toString());
        }
    }

    /** The Sluice request, once WebClient has committed this one. */
    HttpRequest.Builder toSluice() {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).method(method.name());
        SpringHeaders.copyTo(applied, b);
        if (body != null) {
            b.body(body, SpringHeaders.contentLength(applied));
        }
        return b;
    }
}

package io.sluice.spring.http;

import io.sluice.http.StreamingResponse;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ResponseCookie;
import org.springframework.http.client.reactive.ClientHttpResponse;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.util.MultiValueMap;
import reactor.adapter.JdkFlowAdapter;
import reactor.core.publisher.Flux;

/**
 * The reactive view of a Sluice response: the head at once, the body as a back-pressured {@link Flux} subscribed
 * once (Spring's contract). Owns the exchange: cancelling the body frees the pool slot.
 */
final class SluiceReactiveClientHttpResponse implements ClientHttpResponse {

    private final StreamingResponse response;
    private final DataBufferFactory buffers;
    private final HttpHeaders headers;
    private final AtomicBoolean subscribed = new AtomicBoolean();

    SluiceReactiveClientHttpResponse(StreamingResponse response, DataBufferFactory buffers) {
        this.response = response;
        this.buffers = buffers;
        this.headers = HttpHeaders.readOnlyHttpHeaders(SpringHeaders.toSpring(response.headers()));
    }

    @Override
    public String getId() {
        return Integer.toHexString(System.identityHashCode(response));
    }

    @Override
    public HttpStatusCode getStatusCode() {
        return HttpStatusCode.valueOf(response.status());
    }

    @Override
    public MultiValueMap<String, ResponseCookie> getCookies() {
        MultiValueMap<String, ResponseCookie> cookies = new LinkedMultiValueMap<>();
        for (String header : headers.getOrEmpty(HttpHeaders.SET_COOKIE)) {
            for (java.net.HttpCookie c : java.net.HttpCookie.parse(header)) {
                cookies.add(c.getName(), ResponseCookie.from(c.getName(), c.getValue()).domain(c.getDomain())
                        .path(c.getPath()).maxAge(c.getMaxAge()).secure(c.getSecure()).httpOnly(c.isHttpOnly())
                        .build());
            }
        }
        return cookies;
    }

    @Override
    public HttpHeaders getHeaders() {
        return headers;
    }

    @Override
    public Flux<DataBuffer> getBody() {
        return Flux.defer(() -> {
            if (!subscribed.compareAndSet(false, true)) {
                return Flux.error(new IllegalStateException("the response body can be read once"));
            }
            // Sluice's buffer is valid only during onNext: copy it there into a buffer Spring owns and releases.
            return JdkFlowAdapter.flowPublisherToFlux(response.body()).map(this::copy);
        });
    }

    private DataBuffer copy(ByteBuffer network) {
        DataBuffer out = buffers.allocateBuffer(network.remaining());
        out.write(network);
        return out;
    }
}

package io.sluice.spring.http;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.StreamingResponse;
import io.sluice.http.sdk.ChunkInputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.Okio;

/**
 * An OkHttp application interceptor that sends each call over a Sluice {@link ConnectionPoolManager} instead of
 * OkHttp's own connections: it never calls {@code chain.proceed}, so OkHttp's connection pool, dispatcher sockets and
 * TLS stay unused and the answer is Sluice's response, its body streamed live.
 *
 * <p>It exists for libraries that build an OkHttp client themselves and only let you add interceptors: Spring AI
 * 2.0's OpenAI and Anthropic chat models build their SDK clients on OkHttp and expose
 * {@code OpenAiHttpClientBuilderCustomizer} / {@code AnthropicHttpClientBuilderCustomizer}, whose builders take an
 * interceptor; the Sluice starter registers this one there.
 *
 * <p>Those clients retry on their own, so requests go out with Sluice's status retries off (transport replays of
 * requests the server never processed stay on). The request body is read into memory once (the SDKs' bodies are
 * JSON), so Sluice can replay it. Timeouts: OkHttp's read timeout bounds the wait for the head and each body gap,
 * the connect timeout the wait for a pooled connection, the call timeout the whole exchange.
 *
 * <p><b>Thread-safety:</b> thread-safe and stateless apart from the manager; OkHttp calls it on the calling or
 * dispatcher thread, which blocks until the response head arrives. <b>Ownership:</b> does not own the manager; each
 * response body owns its exchange (closing it early frees the pool slot).
 */
public final class SluiceOkHttpInterceptor implements Interceptor {

    /** What Sluice frames itself (OkHttp's BridgeInterceptor has not run yet, but a caller may have set them). */
    private static final Set<String> HOP_BY_HOP = Set.of("host", "connection", "keep-alive", "transfer-encoding",
            "upgrade", "proxy-connection", "te", "content-length");

    private final ConnectionPoolManager manager;

    /** An interceptor over {@code manager}, which stays the caller's. */
    public SluiceOkHttpInterceptor(ConnectionPoolManager manager) {
        this.manager = Objects.requireNonNull(manager, "manager");
    }

    @Override
    public Response intercept(Chain chain) throws IOException {
        Request request = chain.request();
        HttpRequest.Builder b = HttpRequest.newBuilder(request.url().uri()).method(request.method())
                .statusRetries(false);
        for (int i = 0; i < request.headers().size(); i++) {
            String name = request.headers().name(i);
            if (!HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT))) {
                b.header(name, request.headers().value(i));
            }
        }
        RequestBody body = request.body();
        if (body != null) {
            Buffer bytes = new Buffer();
            body.writeTo(bytes);
            MediaType type = body.contentType();
            if (type != null && request.header("content-type") == null) {
                b.header("content-type", type.toString());
            }
            b.body(bytes.readByteArray());
        }
        SpringHeaders.applyTimeouts(b, millis(chain.readTimeoutMillis()), millis(chain.connectTimeoutMillis()));
        long callTimeoutNanos = chain.call().timeout().timeoutNanos();
        if (callTimeoutNanos > 0) {
            b.totalTimeout(Duration.ofNanos(callTimeoutNanos));
        }
        CompletableFuture<StreamingResponse> pending = manager.stream(b.build());
        StreamingResponse response;
        try {
            response = pending.get();
        } catch (InterruptedException e) {
            pending.cancel(true);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for " + request.method() + " " + request.url());
        } catch (ExecutionException e) {
            throw new IOException(e.getCause().getMessage(), e.getCause()); // OkHttp's callers expect IOException
        }
        if (chain.call().isCanceled()) {
            response.close();
            throw new IOException("Canceled");
        }
        okhttp3.Headers.Builder headers = new okhttp3.Headers.Builder();
        response.headers().forEach(headers::addUnsafeNonAscii);
        String contentType = response.headers().get("content-type");
        String length = response.headers().get("content-length");
        ResponseBody responseBody = ResponseBody.create(
                Okio.buffer(Okio.source(new ChunkInputStream(response, () -> { }))),
                contentType == null ? null : MediaType.parse(contentType),
                length == null ? -1 : parseLength(length));
        return new Response.Builder()
                .request(request)
                .protocol(response.protocol() == io.sluice.http.Protocol.H2 ? Protocol.HTTP_2 : Protocol.HTTP_1_1)
                .code(response.status())
                .message("") // HTTP/2 carries no reason phrase; nobody reads OkHttp's
                .headers(headers.build())
                .body(responseBody)
                .build();
    }

    private static Duration millis(int ms) {
        return ms > 0 ? Duration.ofMillis(ms) : null;
    }

    private static long parseLength(String value) {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}

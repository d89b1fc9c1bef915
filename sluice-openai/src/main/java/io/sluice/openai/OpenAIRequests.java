package io.sluice.openai;

import io.sluice.http.sdk.CallTimeouts;
import io.sluice.http.sdk.UrlEncoding;
import com.openai.core.RequestOptions;
import com.openai.core.Timeout;
import com.openai.core.http.HttpRequest;
import com.openai.core.http.HttpRequestBody;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the SDK's request into a Sluice request: the URL from base URL, path segments and query,
 * every header, the body serialized to bytes (so that Sluice can replay it on a fresh connection
 * when the server never processed it) and the call's timeouts ({@link CallTimeouts}). Like the
 * SDK's OkHttp transport it also tells the server the client's timeouts in
 * {@code X-Stainless-Read-Timeout} / {@code X-Stainless-Timeout} unless already set.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
final class OpenAIRequests {

    private OpenAIRequests() {
    }

    static io.sluice.http.HttpRequest toSluice(HttpRequest request, RequestOptions options) {
        Map<String, List<String>> query = new LinkedHashMap<>();
        for (String key : request.queryParams().keys()) {
            query.put(key, request.queryParams().values(key));
        }
        String url = UrlEncoding.url(request.baseUrl(), request.pathSegments(), query);
        io.sluice.http.HttpRequest.Builder b = io.sluice.http.HttpRequest.newBuilder(url)
                .method(request.method().name())
                // the SDK retries on its own: Sluice's status retries would multiply its attempts
                .statusRetries(false);
        for (String name : request.headers().names()) {
            for (String value : request.headers().values(name)) {
                b.header(name, value);
            }
        }
        HttpRequestBody body = request.body();
        if (body != null) {
            if (body.contentType() != null && request.headers().values("Content-Type").isEmpty()) {
                b.header("content-type", body.contentType());
            }
            b.body(serialize(body));
        }
        Timeout t = options.getTimeout() != null ? options.getTimeout() : Timeout.builder().build();
        addTimeoutHint(b, request, "X-Stainless-Read-Timeout", t.read());
        addTimeoutHint(b, request, "X-Stainless-Timeout", t.request());
        return CallTimeouts.apply(b, t.connect(), t.read(), t.request()).build();
    }

    /** The SDK's bodies are JSON or multipart held in memory; bytes make the request replayable. */
    private static byte[] serialize(HttpRequestBody body) {
        long length = body.contentLength();
        ByteArrayOutputStream out = new ByteArrayOutputStream(length > 0 && length < Integer.MAX_VALUE ? (int) length : 512);
        body.writeTo(out);
        return out.toByteArray();
    }

    private static void addTimeoutHint(io.sluice.http.HttpRequest.Builder b, HttpRequest request, String name,
            Duration d) {
        if (!d.isZero() && !d.isNegative() && request.headers().values(name).isEmpty()) {
            b.header(name, Long.toString(d.toSeconds()));
        }
    }
}

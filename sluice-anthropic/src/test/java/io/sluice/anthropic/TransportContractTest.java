package io.sluice.anthropic;

import com.anthropic.backends.AnthropicBackend;
import com.anthropic.core.RequestOptions;
import com.anthropic.core.Timeout;
import com.anthropic.core.http.HttpMethod;
import com.anthropic.core.http.HttpRequest;
import com.anthropic.core.http.HttpRequestBody;
import com.anthropic.core.http.HttpResponse;
import com.anthropic.errors.AnthropicIoException;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.sdk.contract.SdkTransportContract;
import java.io.InputStream;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** The SDK transport contract ({@link SdkTransportContract}) on the Anthropic SDK's transport. */
class TransportContractTest extends SdkTransportContract<SluiceAnthropicHttpClient, HttpResponse> {

    @Override
    protected ConnectionPoolManager.Builder poolManagerBuilder() {
        return SluiceAnthropic.poolManagerBuilder();
    }

    @Override
    protected SluiceAnthropicHttpClient transport() {
        return SluiceAnthropicHttpClient.create(pools,
                AnthropicBackend.builder().apiKey(KEY).baseUrl(mock.httpsUri().toString()).build());
    }

    @Override
    protected CompletableFuture<HttpResponse> executeAsync(SluiceAnthropicHttpClient transport, Map<String, String> headers) {
        return transport.executeAsync(streamRequest(headers), RequestOptions.none());
    }

    @Override
    protected HttpResponse execute(SluiceAnthropicHttpClient transport, Map<String, String> headers, Duration readTimeout) {
        RequestOptions options = readTimeout == null ? RequestOptions.none()
                : RequestOptions.builder().timeout(Timeout.builder().read(readTimeout).build()).build();
        return transport.execute(streamRequest(headers), options);
    }

    @Override
    protected int statusCode(HttpResponse response) {
        return response.statusCode();
    }

    @Override
    protected InputStream body(HttpResponse response) {
        return response.body();
    }

    @Override
    protected int inFlight(SluiceAnthropicHttpClient transport) {
        return transport.inFlight();
    }

    @Override
    protected Class<? extends Exception> ioExceptionType() {
        return AnthropicIoException.class;
    }

    private static HttpRequest streamRequest(Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.builder().method(HttpMethod.POST).baseUrl(mock.httpsUri().toString())
                .addPathSegments("v1", "messages").putHeader("Authorization", "Bearer " + KEY)
                .body(jsonBody(HttpRequestBody.class,
                        "{\"model\":\"m\",\"max_tokens\":64,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));
        headers.forEach(b::putHeader);
        return b.build();
    }
}

package io.sluice.openai;

import com.openai.core.RequestOptions;
import com.openai.core.Timeout;
import com.openai.core.http.HttpMethod;
import com.openai.core.http.HttpRequest;
import com.openai.core.http.HttpRequestBody;
import com.openai.core.http.HttpResponse;
import com.openai.errors.OpenAIIoException;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.sdk.contract.SdkTransportContract;
import java.io.InputStream;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** The SDK transport contract ({@link SdkTransportContract}) on the OpenAI SDK's transport. */
class TransportContractTest extends SdkTransportContract<SluiceOpenAIHttpClient, HttpResponse> {

    @Override
    protected ConnectionPoolManager.Builder poolManagerBuilder() {
        return SluiceOpenAI.poolManagerBuilder();
    }

    @Override
    protected SluiceOpenAIHttpClient transport() {
        return SluiceOpenAIHttpClient.create(pools);
    }

    @Override
    protected CompletableFuture<HttpResponse> executeAsync(SluiceOpenAIHttpClient transport, Map<String, String> headers) {
        return transport.executeAsync(streamRequest(headers), RequestOptions.none());
    }

    @Override
    protected HttpResponse execute(SluiceOpenAIHttpClient transport, Map<String, String> headers, Duration readTimeout) {
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
    protected int inFlight(SluiceOpenAIHttpClient transport) {
        return transport.inFlight();
    }

    @Override
    protected Class<? extends Exception> ioExceptionType() {
        return OpenAIIoException.class;
    }

    private static HttpRequest streamRequest(Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.builder().method(HttpMethod.POST).baseUrl(mock.httpsUri().toString())
                .addPathSegments("v1", "chat", "completions").putHeader("Authorization", "Bearer " + KEY)
                .body(jsonBody(HttpRequestBody.class,
                        "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));
        headers.forEach(b::putHeader);
        return b.build();
    }
}

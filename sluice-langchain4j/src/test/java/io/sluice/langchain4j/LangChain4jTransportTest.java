package io.sluice.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.langchain4j.exception.HttpException;
import dev.langchain4j.exception.RateLimitException;
import dev.langchain4j.exception.RetriableException;
import dev.langchain4j.exception.TimeoutException;
import dev.langchain4j.http.client.HttpClientBuilderLoader;
import dev.langchain4j.http.client.HttpMethod;
import dev.langchain4j.http.client.HttpRequest;
import dev.langchain4j.http.client.sse.ServerSentEvent;
import dev.langchain4j.http.client.sse.ServerSentEventContext;
import dev.langchain4j.http.client.sse.ServerSentEventListener;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.sdk.contract.SdkFixture;
import io.sluice.testkit.MockTokens;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * LangChain4j's OpenAI models and the bare HttpClient over Sluice against the testkit's TLS HTTP/2 server
 * ({@link SdkFixture}: the mock and the shared pools).
 */
class LangChain4jTransportTest extends SdkFixture {

    @Override
    protected ConnectionPoolManager.Builder poolManagerBuilder() {
        return SluiceLangChain4j.poolManagerBuilder();
    }

    SluiceLangChain4jHttpClientBuilder http() {
        return new SluiceLangChain4jHttpClientBuilder().poolManager(pools);
    }

    OpenAiChatModel.OpenAiChatModelBuilder chatModel(Map<String, String> knobs) {
        return OpenAiChatModel.builder().httpClientBuilder(http()).baseUrl(mock.httpsUri() + "/v1").apiKey(KEY)
                .modelName("gpt-test").customHeaders(knobs);
    }

    OpenAiStreamingChatModel streamingModel(Map<String, String> knobs) {
        return OpenAiStreamingChatModel.builder().httpClientBuilder(http()).baseUrl(mock.httpsUri() + "/v1")
                .apiKey(KEY).modelName("gpt-test").customHeaders(knobs).build();
    }

    @Test
    void chatReturnsTheMockAnswerOverHttp2() {
        String answer = chatModel(Map.of("x-mock-tokens", "5")).build().chat("Hello");

        assertThat(answer).isEqualTo(MockTokens.text(5));
        assertThat(mock.stats().http2Connections()).isEqualTo(mock.stats().connectionsAccepted());
    }

    @Test
    void streamedTokensArriveBeforeTheServerHasWrittenTheLastOne() {
        AtomicLong openStreamsAtFirstToken = new AtomicLong(-1);
        StringBuilder text = new StringBuilder();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        streamingModel(Map.of("x-mock-tokens", "8", "x-mock-token-delay-ms", "50")).chat("Hello",
                new StreamingChatResponseHandler() {
                    @Override
                    public void onPartialResponse(String partial) {
                        openStreamsAtFirstToken.compareAndSet(-1, mock.stats().openStreams());
                        text.append(partial);
                    }

                    @Override
                    public void onCompleteResponse(ChatResponse response) {
                        done.complete(response);
                    }

                    @Override
                    public void onError(Throwable error) {
                        done.completeExceptionally(error);
                    }
                });

        assertThat(done.join().aiMessage().text()).isEqualTo(MockTokens.text(8));
        // Seven more tokens were still to come, 50 ms apart: the server's stream was open.
        assertThat(openStreamsAtFirstToken.get()).isGreaterThanOrEqualTo(1);
        assertThat(text.toString()).isEqualTo(MockTokens.text(8));
    }

    @Test
    void rateLimitIsRetriedByLangChain4jExactlyMaxRetriesTimes() {
        long before = mock.stats().requests("/v1/chat/completions");
        OpenAiChatModel model = chatModel(Map.of("x-mock-status", "429", "x-mock-retry-after-ms", "5"))
                .maxRetries(2).build();

        assertThatThrownBy(() -> model.chat("Hello")).isInstanceOf(RateLimitException.class);

        assertThat(mock.stats().requests("/v1/chat/completions") - before).isEqualTo(3);
    }

    @Test
    void streamBrokenMidwaySurfacesAsARetriableExceptionThroughTheHandler() {
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        List<String> partials = new ArrayList<>();
        streamingModel(Map.of("x-mock-tokens", "6", "x-mock-token-delay-ms", "20", "x-mock-reset-after-tokens", "2")).chat("Hello",
                new StreamingChatResponseHandler() {
                    @Override
                    public void onPartialResponse(String partial) {
                        partials.add(partial);
                    }

                    @Override
                    public void onCompleteResponse(ChatResponse response) {
                        done.complete(response);
                    }

                    @Override
                    public void onError(Throwable error) {
                        done.completeExceptionally(error);
                    }
                });

        assertThatThrownBy(done::join).hasCauseInstanceOf(RetriableException.class);
        assertThat(partials).isNotEmpty();
    }

    @Test
    void providerErrorEventMidStreamReachesTheListener() {
        // LangChain4j 1.11's OpenAI streaming model ignores an error event (it ends the answer
        // normally), so this checks what the transport owes it: the event, live, then the end.
        SluiceLangChain4jHttpClient client = http().build();
        List<ServerSentEvent> events = new ArrayList<>();
        CompletableFuture<Void> closed = new CompletableFuture<>();
        client.execute(streamingChatRequest().addHeader("x-mock-tokens", "6").addHeader("x-mock-error-after-tokens", "2")
                .build(), new ServerSentEventListener() {
                    @Override
                    public void onEvent(ServerSentEvent event) {
                        events.add(event);
                    }

                    @Override
                    public void onError(Throwable error) {
                        closed.completeExceptionally(error);
                    }

                    @Override
                    public void onClose() {
                        closed.complete(null);
                    }
                });

        closed.join();
        assertThat(events).hasSizeGreaterThan(2);
        assertThat(events.get(events.size() - 1).data()).contains("\"error\"");
    }

    @Test
    void readTimeoutFailsWithLangChain4jTimeoutException() {
        long before = mock.stats().requests("/v1/chat/completions");
        OpenAiChatModel model = chatModel(Map.of("x-mock-blackhole", "true"))
                .timeout(Duration.ofMillis(300)).maxRetries(0).build();

        assertThatThrownBy(() -> model.chat("Hello")).isInstanceOf(TimeoutException.class)
                .hasMessageNotContaining(KEY);

        assertThat(mock.stats().requests("/v1/chat/completions") - before).isEqualTo(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> mock.stats().openStreams() == 0);
    }

    @Test
    void hundredSequentialAndHundredConcurrentCallsShareTwoConnectionsAtMost() throws Exception {
        OpenAiChatModel model = chatModel(Map.of("x-mock-delay-ms", "20")).build();
        for (int i = 0; i < 100; i++) {
            assertThat(model.chat("Hello")).isEqualTo(MockTokens.text(16));
        }
        ExecutorService callers = Executors.newFixedThreadPool(100);
        try {
            List<Future<String>> calls = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                calls.add(callers.submit(() -> model.chat("Hello")));
            }
            for (Future<String> f : calls) {
                assertThat(f.get()).isEqualTo(MockTokens.text(16));
            }
        } finally {
            callers.shutdownNow();
        }

        assertThat(mock.stats().connectionsAccepted()).isLessThanOrEqualTo(2);
        assertThat(mock.stats().http2Connections()).isEqualTo(mock.stats().connectionsAccepted());
        assertThat(mock.stats().maxStreamsOnOneConnection()).isGreaterThan(1);
    }

    @Test
    void errorStatusIsAnHttpExceptionWithStatusAndBody() {
        SluiceLangChain4jHttpClient client = http().build();
        HttpRequest request = chatRequest().addHeader("x-mock-status", "400").build();

        assertThatThrownBy(() -> client.execute(request)).isInstanceOf(HttpException.class)
                .satisfies(e -> assertThat(((HttpException) e).statusCode()).isEqualTo(400))
                .hasMessageContaining("error");
    }

    @Test
    void cancellingThroughTheParsingHandleFreesTheSlot() {
        SluiceLangChain4jHttpClient client = http().build();
        CompletableFuture<String> first = new CompletableFuture<>();
        client.execute(streamingChatRequest().addHeader("x-mock-tokens", "200")
                .addHeader("x-mock-token-delay-ms", "20").build(), new ServerSentEventListener() {
                    @Override
                    public void onEvent(ServerSentEvent event, ServerSentEventContext context) {
                        first.complete(event.data());
                        context.parsingHandle().cancel();
                    }

                    @Override
                    public void onError(Throwable error) {
                        first.completeExceptionally(error);
                    }
                });

        assertThat(first.join()).contains("chat.completion.chunk");
        await().atMost(Duration.ofSeconds(5)).until(() -> client.inFlight() == 0 && mock.stats().openStreams() == 0);
    }

    @Test
    void closingTheClientReleasesOnlyItsOwnExchanges() {
        SluiceLangChain4jHttpClient doomed = http().build();
        CompletableFuture<Throwable> failed = new CompletableFuture<>();
        doomed.execute(chatRequest().addHeader("x-mock-blackhole", "true").build(), new ServerSentEventListener() {
            @Override
            public void onError(Throwable error) {
                failed.complete(error);
            }
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> mock.stats().openStreams() >= 1);

        doomed.close();

        assertThat(failed.join()).hasMessageContaining("transport was closed");
        assertThat(doomed.inFlight()).isZero();
        assertThat(http().build().execute(chatRequest().build()).statusCode()).isEqualTo(200); // the pools still serve
    }

    @Test
    void serviceLoaderPicksSluiceWhenThePropertyNamesIt() {
        String property = "langchain4j.http.clientBuilderFactory";
        String old = System.getProperty(property);
        System.setProperty(property, SluiceLangChain4jHttpClientBuilderFactory.class.getName());
        try {
            assertThat(HttpClientBuilderLoader.loadHttpClientBuilder()).isInstanceOf(SluiceLangChain4jHttpClientBuilder.class);
        } finally {
            if (old == null) {
                System.clearProperty(property);
            } else {
                System.setProperty(property, old);
            }
        }
    }

    HttpRequest.Builder streamingChatRequest() {
        return chatRequest()
                .body("{\"model\":\"gpt-test\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    }

    HttpRequest.Builder chatRequest() {
        return HttpRequest.builder().method(HttpMethod.POST).url(mock.httpsUri() + "/v1/chat/completions")
                .addHeader("Authorization", "Bearer " + KEY).addHeader("Content-Type", "application/json")
                .body("{\"model\":\"gpt-test\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    }
}

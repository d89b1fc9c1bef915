package io.sluice.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;

/**
 * {@code POST /v1/chat/completions}: a {@code chat.completion} object, or with {@code "stream":true}
 * {@code chat.completion.chunk} events ending in {@code data: [DONE]}; with
 * {@code stream_options.include_usage} a usage chunk (empty choices) precedes [DONE].
 * Stateless and thread-safe.
 */
final class ChatCompletionsEndpoint implements Endpoint {
    @Override
    public void serve(Exchange ex, JsonNode body, long promptTokens) {
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray()) {
            ex.respondError(400, "Missing required parameter: 'messages'.");
            return;
        }
        String model = body.path("model").asText();
        int tokens = ex.behavior().tokens();
        if (body.path("stream").asBoolean(false)) {
            boolean usage = body.path("stream_options").path("include_usage").asBoolean(false);
            new SseStreamer(ex, new Script(model, usage, promptTokens)).start();
            return;
        }
        String json = "{\"id\":" + ProviderErrors.quote(Sse.id("chatcmpl-"))
                + ",\"object\":\"chat.completion\",\"created\":" + Sse.nowSeconds()
                + ",\"model\":" + ProviderErrors.quote(model)
                + ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
                + ProviderErrors.quote(MockTokens.text(tokens))
                + ",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
                + usage(promptTokens, tokens)
                + ",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_mock\"}";
        ex.respond(HttpResponseStatus.OK, Exchange.JSON, json, promptTokens + tokens);
    }

    static String usage(long prompt, long completion) {
        return "\"usage\":{\"prompt_tokens\":" + prompt + ",\"completion_tokens\":" + completion
                + ",\"total_tokens\":" + (prompt + completion)
                + ",\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0}"
                + ",\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
                + "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}";
    }

    /** Chunk events; the constant chunk prefix is encoded once per request. */
    private static final class Script implements SseScript {
        private final byte[] prefix;
        private final String head;
        private final boolean includeUsage;
        private final long promptTokens;

        Script(String model, boolean includeUsage, long promptTokens) {
            this.head = "{\"id\":" + ProviderErrors.quote(Sse.id("chatcmpl-"))
                    + ",\"object\":\"chat.completion.chunk\",\"created\":" + Sse.nowSeconds()
                    + ",\"model\":" + ProviderErrors.quote(model) + ",\"system_fingerprint\":\"fp_mock\"";
            this.prefix = ("data: " + head + ",\"choices\":[{\"index\":0,\"delta\":").getBytes(StandardCharsets.UTF_8);
            this.includeUsage = includeUsage;
            this.promptTokens = promptTokens;
        }

        private void chunk(ByteBuf out, String delta, String finishReason) {
            out.writeBytes(prefix);
            out.writeCharSequence(delta, StandardCharsets.US_ASCII);
            out.writeCharSequence(",\"logprobs\":null,\"finish_reason\":", StandardCharsets.US_ASCII);
            out.writeCharSequence(finishReason, StandardCharsets.US_ASCII);
            out.writeCharSequence("}]}\n\n", StandardCharsets.US_ASCII);
        }

        @Override
        public void opening(ByteBuf out) {
            chunk(out, "{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}", "null");
        }

        @Override
        public void token(int index, ByteBuf out) {
            chunk(out, "{\"content\":\"" + MockTokens.token(index) + "\"}", "null");
        }

        @Override
        public void oversizedToken(int index, ByteBuf out) {
            chunk(out, "{\"content\":\"" + OVERSIZED_TEXT + "\"}", "null");
        }

        @Override
        public void closing(int tokens, ByteBuf out) {
            chunk(out, "{}", "\"stop\"");
            if (includeUsage) {
                Sse.data(out, head + ",\"choices\":[]," + usage(promptTokens, tokens) + "}");
            }
            out.writeCharSequence("data: [DONE]\n\n", StandardCharsets.US_ASCII);
        }

        @Override
        public void error(ByteBuf out) {
            Sse.data(out, ProviderErrors.openAi("The server had an error while processing your request (mock"
                    + " mid-stream error).", "server_error", null));
        }
    }
}

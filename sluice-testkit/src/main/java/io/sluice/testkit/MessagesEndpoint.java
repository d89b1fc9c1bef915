package io.sluice.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;

/**
 * Anthropic {@code POST /v1/messages}: a {@code message} object, or with {@code "stream":true} the
 * events {@code message_start}, {@code content_block_start}, {@code ping},
 * {@code content_block_delta} (text_delta)..., {@code content_block_stop}, {@code message_delta},
 * {@code message_stop}. Every event has an {@code event:} line because Anthropic's SDKs drop events
 * without one. Stateless and thread-safe.
 */
final class MessagesEndpoint implements Endpoint {
    @Override
    public void serve(Exchange ex, JsonNode body, long promptTokens) {
        if (!body.path("messages").isArray()) {
            ex.respondError(400, "messages: Field required");
            return;
        }
        if (!body.path("max_tokens").canConvertToInt()) {
            ex.respondError(400, "max_tokens: Field required");
            return;
        }
        String model = ProviderErrors.quote(body.path("model").asText());
        String id = Sse.id("msg_");
        int tokens = ex.behavior().tokens();
        if (body.path("stream").asBoolean(false)) {
            new SseStreamer(ex, new Script(id, model, promptTokens)).start();
            return;
        }
        String json = "{\"id\":\"" + id + "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":" + model
                + ",\"content\":[{\"type\":\"text\",\"text\":" + ProviderErrors.quote(MockTokens.text(tokens))
                + "}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":"
                + promptTokens + ",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,"
                + "\"output_tokens\":" + tokens + "}}";
        ex.respond(HttpResponseStatus.OK, Exchange.JSON, json, promptTokens + tokens);
    }

    /** Streamed events; the text delta prefix is encoded once per request. */
    private static final class Script implements SseScript {
        private static final byte[] DELTA_PREFIX = ("event: content_block_delta\ndata: {\"type\":\"content_block_delta\","
                + "\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"").getBytes(StandardCharsets.US_ASCII);
        private static final byte[] DELTA_SUFFIX = "\"}}\n\n".getBytes(StandardCharsets.US_ASCII);

        private final String id;
        private final String model;
        private final long promptTokens;

        Script(String id, String model, long promptTokens) {
            this.id = id;
            this.model = model;
            this.promptTokens = promptTokens;
        }

        @Override
        public void opening(ByteBuf out) {
            Sse.event(out, "message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"" + id
                    + "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":" + model
                    + ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":"
                    + promptTokens + ",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,"
                    + "\"output_tokens\":1}}}");
            Sse.event(out, "content_block_start",
                    "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
            Sse.event(out, "ping", "{\"type\":\"ping\"}");
        }

        @Override
        public void token(int index, ByteBuf out) {
            out.writeBytes(DELTA_PREFIX);
            out.writeCharSequence(MockTokens.token(index), StandardCharsets.US_ASCII);
            out.writeBytes(DELTA_SUFFIX);
        }

        @Override
        public void oversizedToken(int index, ByteBuf out) {
            out.writeBytes(DELTA_PREFIX);
            out.writeCharSequence(OVERSIZED_TEXT, StandardCharsets.US_ASCII);
            out.writeBytes(DELTA_SUFFIX);
        }

        @Override
        public void closing(int tokens, ByteBuf out) {
            Sse.event(out, "content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}");
            Sse.event(out, "message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
                    + "\"stop_sequence\":null},\"usage\":{\"output_tokens\":" + tokens + "}}");
            Sse.event(out, "message_stop", "{\"type\":\"message_stop\"}");
        }

        @Override
        public void error(ByteBuf out) {
            Sse.event(out, "error", ProviderErrors.anthropic("overloaded_error", "Overloaded"));
        }
    }
}

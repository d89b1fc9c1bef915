package io.sluice.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * {@code POST /v1/responses}: a {@code response} object, or with {@code "stream":true} the named
 * events {@code response.created}, {@code response.in_progress}, output item/part added,
 * {@code response.output_text.delta}..., text/part/item done and {@code response.completed}, each
 * with a {@code sequence_number} and no {@code [DONE]}. Stateless and thread-safe.
 */
final class ResponsesEndpoint implements Endpoint {
    @Override
    public void serve(Exchange ex, JsonNode body, long promptTokens) {
        if (!body.has("input")) {
            ex.respondError(400, "Missing required parameter: 'input'.");
            return;
        }
        Ids ids = new Ids(body.path("model").asText());
        int tokens = ex.behavior().tokens();
        if (body.path("stream").asBoolean(false)) {
            new SseStreamer(ex, new Script(ids, promptTokens)).start();
            return;
        }
        ex.respond(HttpResponseStatus.OK, Exchange.JSON, ids.response("completed",
                "[" + ids.item("completed", MockTokens.text(tokens)) + "]", usage(promptTokens, tokens)),
                promptTokens + tokens);
    }

    static String usage(long in, long out) {
        return "{\"input_tokens\":" + in + ",\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":"
                + out + ",\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":" + (in + out) + "}";
    }

    /** Ids and model of one response, and the JSON shapes built from them. */
    private static final class Ids {
        final String responseId = Sse.id("resp_");
        final String itemId = Sse.id("msg_");
        final String model;
        final long createdAt = Sse.nowSeconds();

        Ids(String model) {
            this.model = ProviderErrors.quote(model);
        }

        String response(String status, String output, String usage) {
            return "{\"id\":\"" + responseId + "\",\"object\":\"response\",\"created_at\":" + createdAt
                    + ",\"status\":\"" + status + "\",\"error\":null,\"incomplete_details\":null,"
                    + "\"instructions\":null,\"max_output_tokens\":null,\"model\":" + model
                    + ",\"output\":" + output + ",\"parallel_tool_calls\":true,\"previous_response_id\":null,"
                    + "\"reasoning\":{\"effort\":null,\"summary\":null},\"store\":true,\"temperature\":1.0,"
                    + "\"text\":{\"format\":{\"type\":\"text\"}},\"tool_choice\":\"auto\",\"tools\":[],"
                    + "\"top_p\":1.0,\"truncation\":\"disabled\",\"usage\":" + usage + ",\"user\":null,\"metadata\":{}}";
        }

        String item(String status, String text) {
            String content = text == null ? "[]"
                    : "[{\"type\":\"output_text\",\"annotations\":[],\"text\":" + ProviderErrors.quote(text) + "}]";
            return "{\"id\":\"" + itemId + "\",\"type\":\"message\",\"status\":\"" + status
                    + "\",\"content\":" + content + ",\"role\":\"assistant\"}";
        }
    }

    /** Streamed events; owns the sequence counter. */
    private static final class Script implements SseScript {
        private final Ids ids;
        private final long promptTokens;
        private final String deltaHead;
        private int seq;

        Script(Ids ids, long promptTokens) {
            this.ids = ids;
            this.promptTokens = promptTokens;
            this.deltaHead = "\"item_id\":\"" + ids.itemId + "\",\"output_index\":0,\"content_index\":0";
        }

        private void event(ByteBuf out, String type, String fields) {
            Sse.event(out, type, "{\"type\":\"" + type + "\",\"sequence_number\":" + seq++ + "," + fields + "}");
        }

        @Override
        public void opening(ByteBuf out) {
            String inProgress = ids.response("in_progress", "[]", "null");
            event(out, "response.created", "\"response\":" + inProgress);
            event(out, "response.in_progress", "\"response\":" + inProgress);
            event(out, "response.output_item.added", "\"output_index\":0,\"item\":" + ids.item("in_progress", null));
            event(out, "response.content_part.added", deltaHead
                    + ",\"part\":{\"type\":\"output_text\",\"annotations\":[],\"text\":\"\"}");
        }

        @Override
        public void token(int index, ByteBuf out) {
            event(out, "response.output_text.delta", deltaHead + ",\"delta\":\"" + MockTokens.token(index)
                    + "\",\"logprobs\":[]");
        }

        @Override
        public void oversizedToken(int index, ByteBuf out) {
            event(out, "response.output_text.delta", deltaHead + ",\"delta\":\"" + OVERSIZED_TEXT + "\",\"logprobs\":[]");
        }

        @Override
        public void closing(int tokens, ByteBuf out) {
            String text = ProviderErrors.quote(MockTokens.text(tokens));
            event(out, "response.output_text.done", deltaHead + ",\"text\":" + text + ",\"logprobs\":[]");
            event(out, "response.content_part.done", deltaHead
                    + ",\"part\":{\"type\":\"output_text\",\"annotations\":[],\"text\":" + text + "}");
            String item = ids.item("completed", MockTokens.text(tokens));
            event(out, "response.output_item.done", "\"output_index\":0,\"item\":" + item);
            event(out, "response.completed", "\"response\":"
                    + ids.response("completed", "[" + item + "]", usage(promptTokens, tokens)));
        }

        @Override
        public void error(ByteBuf out) {
            event(out, "error", "\"code\":\"server_error\",\"message\":"
                    + "\"The server had an error while processing your request (mock mid-stream error).\",\"param\":null");
        }
    }
}

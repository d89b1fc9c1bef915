package io.sluice.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;

/**
 * The {@code /v1/realtime} WebSocket session, after OpenAI's Realtime API: {@code session.created}
 * on connect; {@code response.create} answered with {@code response.created}, one
 * {@code response.output_text.delta} per token and {@code response.done}; {@code session.update}
 * with {@code session.updated}; anything else with an {@code error} event naming it. Pings are
 * answered with pongs and close frames echoed by Netty's {@link WebSocketServerProtocolHandler},
 * which sits before this handler.
 *
 * <p>One instance per connection, confined to its event loop.
 */
final class RealtimeHandler extends SimpleChannelInboundHandler<WebSocketFrame> {
    private final MockServerContext server;
    private final String sessionId = Sse.id("sess_");
    private int responses;

    RealtimeHandler(MockServerContext server) {
        this.server = server;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
            ConnectionState.of(ctx.channel()).upgradedToWebSocket();
            send(ctx, "{\"type\":\"session.created\",\"event_id\":\"" + Sse.id("event_") + "\",\"session\":"
                    + session() + "}");
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
        if (!(frame instanceof TextWebSocketFrame text)) {
            error(ctx, "invalid_request_error", "binary_frame", "Only text frames carrying JSON events are supported.", null);
            return;
        }
        JsonNode event;
        try {
            event = server.json.readTree(text.text());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            error(ctx, "invalid_request_error", "invalid_json", "The event is not valid JSON: " + e.getOriginalMessage(), null);
            return;
        }
        String type = event.path("type").asText("");
        String clientEventId = event.path("event_id").isTextual() ? event.path("event_id").asText() : null;
        switch (type) {
            case "response.create" -> respond(ctx, server.behavior().tokens(), server.behavior().tokenDelayMs());
            case "session.update" -> send(ctx, "{\"type\":\"session.updated\",\"event_id\":\"" + Sse.id("event_")
                    + "\",\"session\":" + session() + "}");
            default -> error(ctx, "invalid_request_error", "unknown_event",
                    "Unknown event type '" + type + "'.", clientEventId);
        }
    }

    private void respond(ChannelHandlerContext ctx, int tokens, long tokenDelayMs) {
        String responseId = Sse.id("resp_");
        String itemId = Sse.id("item_");
        responses++;
        send(ctx, "{\"type\":\"response.created\",\"event_id\":\"" + Sse.id("event_") + "\",\"response\":{\"id\":\""
                + responseId + "\",\"object\":\"realtime.response\",\"status\":\"in_progress\",\"output\":[]}}");
        streamDeltas(ctx, responseId, itemId, 0, tokens, tokenDelayMs);
    }

    private void streamDeltas(ChannelHandlerContext ctx, String responseId, String itemId, int from, int tokens,
            long tokenDelayMs) {
        int i = from;
        while (i < tokens && ctx.channel().isActive()) {
            send(ctx, "{\"type\":\"response.output_text.delta\",\"event_id\":\"" + Sse.id("event_")
                    + "\",\"response_id\":\"" + responseId + "\",\"item_id\":\"" + itemId
                    + "\",\"output_index\":0,\"content_index\":0,\"delta\":\"" + MockTokens.token(i) + "\"}");
            i++;
            if (tokenDelayMs > 0 && i < tokens) {
                int nextFrom = i;
                ctx.executor().schedule(() -> streamDeltas(ctx, responseId, itemId, nextFrom, tokens, tokenDelayMs),
                        tokenDelayMs, java.util.concurrent.TimeUnit.MILLISECONDS);
                return;
            }
        }
        if (!ctx.channel().isActive()) {
            return;
        }
        send(ctx, "{\"type\":\"response.done\",\"event_id\":\"" + Sse.id("event_") + "\",\"response\":{\"id\":\""
                + responseId + "\",\"object\":\"realtime.response\",\"status\":\"completed\",\"output\":[{\"id\":\""
                + itemId + "\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":"
                + ProviderErrors.quote(MockTokens.text(tokens)) + "}]}],\"usage\":{\"total_tokens\":" + tokens
                + ",\"input_tokens\":0,\"output_tokens\":" + tokens + "}}}");
    }

    private void error(ChannelHandlerContext ctx, String type, String code, String message, String clientEventId) {
        send(ctx, "{\"type\":\"error\",\"event_id\":\"" + Sse.id("event_") + "\",\"error\":{\"type\":\"" + type
                + "\",\"code\":\"" + code + "\",\"message\":" + ProviderErrors.quote(message) + ",\"param\":null,"
                + "\"event_id\":" + (clientEventId == null ? "null" : ProviderErrors.quote(clientEventId)) + "}}");
    }

    private String session() {
        return "{\"id\":\"" + sessionId + "\",\"object\":\"realtime.session\",\"model\":\"gpt-realtime\","
                + "\"modalities\":[\"text\"],\"responses\":" + responses + "}";
    }

    private static void send(ChannelHandlerContext ctx, String json) {
        ctx.writeAndFlush(new TextWebSocketFrame(json));
    }
}

package io.sluice.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;

/**
 * Body-less and constant endpoints: {@code GET /v1/models}, {@code GET|HEAD /generate_204} and
 * {@code GET|HEAD /ping}. Bodies are encoded once into read-only buffers and sent as duplicates.
 * Thread-safe: the shared buffers are unreleasable and only duplicated.
 */
final class StaticEndpoints {
    private static final ByteBuf MODELS = constant("{\"object\":\"list\",\"data\":["
            + model("gpt-4o-mini", "system", 1721172741L) + ","
            + model("gpt-4o", "system", 1715367049L) + ","
            + model("gpt-4.1", "system", 1744316542L) + ","
            + model("text-embedding-3-small", "system", 1705948997L) + ","
            + model("claude-sonnet-4-5", "anthropic", 1759104000L) + "]}");
    private static final ByteBuf PONG = constant("pong\n");

    private StaticEndpoints() {
    }

    static Endpoint models() {
        return (ex, body, prompt) -> ex.respond(HttpResponseStatus.OK, Exchange.JSON, MODELS.duplicate(), 0);
    }

    static Endpoint noContent() {
        return (ex, body, prompt) -> ex.respond(HttpResponseStatus.NO_CONTENT, null, Unpooled.EMPTY_BUFFER, 0);
    }

    static Endpoint ping() {
        return (ex, body, prompt) -> ex.respond(HttpResponseStatus.OK, "text/plain; charset=utf-8", PONG.duplicate(), 0);
    }

    private static String model(String id, String owner, long created) {
        return "{\"id\":\"" + id + "\",\"object\":\"model\",\"created\":" + created + ",\"owned_by\":\"" + owner + "\"}";
    }

    private static ByteBuf constant(String s) {
        // Unreleasable: every response sends a duplicate and Netty's release of it must not free the original.
        return Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(s.getBytes(StandardCharsets.UTF_8)).asReadOnly());
    }
}

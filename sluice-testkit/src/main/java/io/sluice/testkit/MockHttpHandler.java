package io.sluice.testkit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBufInputStream;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes aggregated requests (HTTP/1.1 or an HTTP/2 stream) to an {@link Endpoint} after the checks
 * every request gets: decoding, knob headers, path, auth, method, JSON body; then applies the
 * blackhole, delay and status knobs. WebSocket upgrades to {@code /v1/realtime} are authorised here
 * and passed on to Netty's WebSocket handler. Serves HTTP/1.1 pipelined requests in order.
 *
 * <p>Sharable and stateless (per-request state is in {@link Exchange}, per-connection state in
 * {@link ConnectionState}); thread-safe.
 */
@ChannelHandler.Sharable
final class MockHttpHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(MockHttpHandler.class);
    private static final Runnable NOTHING = () -> { };
    private static final Set<HttpMethod> POST = Set.of(HttpMethod.POST);
    private static final Set<HttpMethod> GET_HEAD = Set.of(HttpMethod.GET, HttpMethod.HEAD);

    /**
     * A path's endpoint, its methods and whether it takes a JSON body; the JSON endpoints are the
     * model calls, the ones an enforced rate limit applies to.
     */
    private record Route(Endpoint endpoint, Set<HttpMethod> methods, boolean jsonBody) {
    }

    /** Output budgets above this count as "never fits"; the cap keeps the sum from overflowing. */
    private static final long MAX_OUTPUT_ESTIMATE = 1L << 40;

    private final MockServerContext server;
    private final Map<String, Route> routes;

    MockHttpHandler(MockServerContext server) {
        this.server = server;
        this.routes = Map.of(
                Routes.CHAT_COMPLETIONS, new Route(new ChatCompletionsEndpoint(), POST, true),
                Routes.RESPONSES, new Route(new ResponsesEndpoint(), POST, true),
                Routes.MESSAGES, new Route(new MessagesEndpoint(), POST, true),
                Routes.EMBEDDINGS, new Route(new EmbeddingsEndpoint(), POST, true),
                Routes.MODELS, new Route(StaticEndpoints.models(), GET_HEAD, false),
                Routes.GENERATE_204, new Route(StaticEndpoints.noContent(), GET_HEAD, false),
                Routes.PING, new Route(StaticEndpoints.ping(), GET_HEAD, false),
                Routes.REALTIME, new Route(null, Set.of(HttpMethod.GET), false));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest req)) {
            ctx.fireChannelRead(msg);
            return;
        }
        boolean h2 = ctx.channel() instanceof Http2StreamChannel;
        ConnectionState conn = ConnectionState.of(ctx.channel());
        if (!h2 && isRealtimeUpgrade(req)) {
            upgrade(ctx, conn, req);
            return;
        }
        try {
            if (h2 || conn.beginH1(req)) {
                serve(ctx, conn, h2, req);
            }
        } finally {
            req.release();
        }
    }

    private void upgrade(ChannelHandlerContext ctx, ConnectionState conn, FullHttpRequest req) {
        server.stats.request(Routes.REALTIME);
        if (authorized(req)) {
            // Netty's WebSocketServerProtocolHandler after us performs the handshake.
            ctx.fireChannelRead(req);
            return;
        }
        try {
            Exchange ex = new Exchange(ctx, server, conn, false, false, req.method(), Routes.REALTIME,
                    server.behavior(), NOTHING);
            ex.respondError(401, authMessage(req, false));
        } finally {
            req.release();
        }
    }

    private void serve(ChannelHandlerContext ctx, ConnectionState conn, boolean h2, FullHttpRequest req) {
        String path = Routes.pathOf(req.uri());
        boolean anthropic = Routes.isAnthropic(path);
        boolean keepAlive = h2 || (HttpUtil.isKeepAlive(req) && req.decoderResult().isSuccess());
        Runnable onFinish = h2 ? NOTHING : () -> serveNextPipelined(ctx, conn);
        MockBehavior behavior = server.behavior();
        String knobError = null;
        try {
            behavior = behavior.withHeaders(req.headers());
        } catch (IllegalArgumentException e) {
            knobError = e.getMessage();
        }
        Exchange ex = new Exchange(ctx, server, conn, h2, keepAlive, req.method(), path, behavior, onFinish);
        if (behavior.refuseStream()) {
            // Refused before processing, so it is not counted as a request: the client will send it again.
            ex.refuse();
            return;
        }
        server.stats.request(path);
        if (req.decoderResult().isFailure()) {
            ex.respondError(400, "Malformed HTTP request: " + req.decoderResult().cause().getMessage());
            return;
        }
        if (knobError != null) {
            ex.respondError(400, knobError);
            return;
        }
        Route route = routes.get(path);
        if (route == null) {
            ex.respondError(404, "Unknown request URL: " + req.method() + " " + path
                    + ". Please check the URL for typos.");
            return;
        }
        if (path.startsWith("/v1/") && !authorized(req)) {
            ex.respondError(401, authMessage(req, anthropic));
            return;
        }
        if (!route.methods().contains(req.method())) {
            ex.respondError(405, "Method " + req.method() + " is not allowed on " + path + "; use "
                    + route.methods() + ".");
            return;
        }
        if (route.endpoint() == null) {
            ex.respondError(400, h2 ? "WebSocket sessions need an HTTP/1.1 Upgrade request; this is HTTP/2."
                    : "Expected a WebSocket upgrade request (Connection: Upgrade, Upgrade: websocket).");
            return;
        }
        conn.goAwayAfterStreams(behavior.goAwayAfterStreams());
        JsonNode body = null;
        if (route.jsonBody()) {
            body = parseBody(ex, req, anthropic);
            if (body == null) {
                return;
            }
        }
        long promptTokens = Math.max(1, req.content().readableBytes() / 4);
        if (server.limiter != null && route.jsonBody()) {
            // Checked when the request arrives, as the providers do: after validation (a malformed
            // request is a 400 and takes nothing), before any injected delay, barrier or fault.
            RateLimiter.State verdict = server.limiter.tryAcquire(tokenCost(path, body, promptTokens, behavior));
            server.stats.rateLimit(verdict.admitted());
            if (!verdict.admitted()) {
                ex.respondRateLimited(verdict);
                return;
            }
            ex.rateLimit(verdict);
        }
        if (behavior.blackhole()) {
            ex.blackhole();
            return;
        }
        JsonNode parsed = body;
        MockBehavior b = behavior;
        Runnable answer = () -> {
            if (!ex.isActive()) {
                return;
            }
            if (b.isErrorStatus()) {
                ex.respondError(b.status(), ProviderErrors.defaultMessage(b.status(), anthropic));
            } else {
                route.endpoint().serve(ex, parsed, promptTokens);
            }
        };
        Runnable delayed = behavior.delayMs() > 0 ? () -> ex.schedule(answer, b.delayMs()) : answer;
        if (behavior.barrier() != null) {
            // The barrier first, then the delay: the delay stays "time from release to the head".
            server.barriers.await(behavior.barrier(), ex.executor(), delayed);
        } else {
            delayed.run();
        }
    }

    /**
     * The tokens a request is charged: the prompt estimate (body bytes / 4, what the usage figures
     * report) plus its output budget, which providers reserve up front: {@code max_tokens} (chat,
     * messages), {@code max_completion_tokens} (chat), {@code max_output_tokens} (responses), else
     * the answer's own length; embeddings produce no output tokens.
     */
    static long tokenCost(String path, JsonNode body, long promptTokens, MockBehavior behavior) {
        if (path.equals(Routes.EMBEDDINGS)) {
            return promptTokens;
        }
        long output = behavior.tokens();
        for (String field : new String[] {"max_tokens", "max_completion_tokens", "max_output_tokens"}) {
            JsonNode n = body.get(field);
            if (n != null && n.isIntegralNumber() && n.bigIntegerValue().signum() >= 0) {
                output = n.canConvertToLong() ? n.asLong() : MAX_OUTPUT_ESTIMATE;
                break;
            }
        }
        return promptTokens + Math.min(output, MAX_OUTPUT_ESTIMATE);
    }

    /** Parses the JSON object body or answers 400 and returns null. */
    private JsonNode parseBody(Exchange ex, FullHttpRequest req, boolean anthropic) {
        if (!req.content().isReadable()) {
            ex.respondError(400, "The request body is empty; a JSON object is required.");
            return null;
        }
        JsonNode body;
        try (ByteBufInputStream in = new ByteBufInputStream(req.content().duplicate())) {
            body = server.json.readTree((java.io.InputStream) in);
        } catch (JsonProcessingException e) {
            ex.respondError(400, "We could not parse the JSON body of your request: " + e.getOriginalMessage());
            return null;
        } catch (IOException e) {
            ex.respondError(400, "Could not read the request body: " + e.getMessage());
            return null;
        }
        if (body == null || !body.isObject()) {
            ex.respondError(400, "The request body must be a JSON object.");
            return null;
        }
        if (!body.path("model").isTextual()) {
            ex.respondError(400, anthropic ? "model: Field required"
                    : "You must provide a model parameter.");
            return null;
        }
        return body;
    }

    private void serveNextPipelined(ChannelHandlerContext ctx, ConnectionState conn) {
        FullHttpRequest next = conn.endH1();
        if (next == null) {
            return;
        }
        // Run later, not nested: a long pipeline must not grow the stack.
        ctx.executor().execute(() -> {
            try {
                if (ctx.channel().isActive()) {
                    serve(ctx, conn, false, next);
                }
            } finally {
                next.release();
            }
        });
    }

    private boolean authorized(FullHttpRequest req) {
        String required = server.options.requiredApiKey();
        if (required == null) {
            return true;
        }
        String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7) && auth.substring(7).trim().equals(required)) {
            return true;
        }
        return required.equals(req.headers().get("x-api-key"));
    }

    private static String authMessage(FullHttpRequest req, boolean anthropic) {
        boolean present = req.headers().contains(HttpHeaderNames.AUTHORIZATION) || req.headers().contains("x-api-key");
        if (anthropic) {
            return present ? "invalid x-api-key" : "x-api-key header is required";
        }
        return present ? "Incorrect API key provided. You can find your API key at the mock's --required-key option."
                : "You didn't provide an API key. You need to provide your API key in an Authorization header "
                        + "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
    }

    private static boolean isRealtimeUpgrade(FullHttpRequest req) {
        return req.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)
                && Routes.pathOf(req.uri()).equals(Routes.REALTIME);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("closing {} after error", ctx.channel(), cause);
        ctx.close();
    }
}

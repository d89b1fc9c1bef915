package io.sluice.websocket;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.netty.handler.ssl.SslContext;
import io.sluice.http.RequestTimeoutException;
import io.sluice.http.spi.Dialer;
import io.sluice.http.spi.NettyTransport;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Opens one WebSocket connection: the HTTP client's {@link Dialer} (DNS off the event loop, TCP
 * with the transport's socket options, TLS with ALPN {@code http/1.1}), then the HTTP/1.1 upgrade
 * with the configured headers and subprotocols. <b>Timeout owner:</b> the whole attempt is
 * bounded once, by one timer here for the handshake timeout, whose error names the stage that ran
 * out (DNS, TCP, TLS or the upgrade); the dialer arms none, Netty's connect and TLS handshake
 * timeouts are off, and the pool arms none either
 * ({@link WebSocketConnectionManager#boundsConnect()}). The pool retries failed attempts.
 *
 * <p><b>Thread-safety:</b> thread-safe (no mutable state). <b>Ownership:</b> borrows the
 * transport, TLS context and executors; a channel whose attempt failed or timed out is closed
 * here, a successful one belongs to the returned {@link WebSocketConnection}.
 */
final class WebSocketConnector {

    /** The upgrade answer is small; a provider's 401 error JSON fits easily. */
    private static final int MAX_HANDSHAKE_RESPONSE = 64 * 1024;

    private final WebSocketSettings settings;
    private final NettyTransport transport;
    private final Dialer dialer;
    private final SslContext sslContext;
    private final Executor completer;

    WebSocketConnector(WebSocketSettings settings, NettyTransport transport, SslContext sslContext, Executor dnsExecutor,
                       Executor completer) {
        if (settings.secure() && sslContext == null) {
            throw new IllegalArgumentException("a wss:// URL needs a TLS context");
        }
        this.settings = settings;
        this.transport = transport;
        this.dialer = new Dialer(transport, dnsExecutor);
        this.sslContext = sslContext;
        this.completer = completer;
    }

    /** Opens and upgrades one connection; {@code onBroken} hears, once, that it broke after it opened. */
    CompletableFuture<WebSocketConnection> connect(Consumer<WebSocketConnection> onBroken) {
        CompletableFuture<WebSocketConnection> result = new CompletableFuture<>();
        WebSocketClientHandshaker handshaker = newHandshaker();
        Dialer.Dial dial = dialer.dial(settings.route(), settings.host(), settings.port(), sslContext, ch -> {
            // providers send long header blocks (rate limits, request ids): 64 KiB like the HTTP transport
            ch.pipeline().addLast("http", new HttpClientCodec(4096, MAX_HANDSHAKE_RESPONSE, 8192));
            ch.pipeline().addLast("http-aggregator", new HttpObjectAggregator(MAX_HANDSHAKE_RESPONSE));
            ch.pipeline().addLast("ws-upgrade", new UpgradeHandler(handshaker, settings, result,
                    ctx -> new WebSocketConnection(settings, ctx.channel(), handshaker.actualSubprotocol(),
                            completer, onBroken)));
        });
        // The attempt's one timer, over DNS, TCP, TLS and the upgrade; its error names the stage that ran out.
        var timer = transport.group().next().schedule(() -> {
            Dialer.Stage stage = dial.stage();
            RequestTimeoutException timeout = new RequestTimeoutException(settings.route(),
                    RequestTimeoutException.Phase.CONNECT, settings.handshakeTimeout(), "during "
                    + (stage == Dialer.Stage.DONE ? "the WebSocket upgrade" : stage.description()), null);
            dial.completeExceptionally(timeout);
            result.completeExceptionally(timeout);
        }, settings.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        // An attempt that timed out or failed closes its channel (a completed one is owned by its connection).
        result.whenComplete((c, e) -> {
            timer.cancel(false);
            if (e != null) {
                dial.completeExceptionally(e);
                Channel ch = dial.channel();
                if (ch != null) {
                    ch.close();
                }
            }
        });
        dial.whenComplete((ch, e) -> {
            if (e != null) {
                result.completeExceptionally(WebSocketErrors.connectFailure(settings.route(), e,
                        settings.handshakeTimeout()));
            }
        });
        return result;
    }

    private WebSocketClientHandshaker newHandshaker() {
        HttpHeaders headers = new DefaultHttpHeaders();
        for (Map.Entry<String, String> h : settings.headers()) {
            headers.add(h.getKey(), h.getValue());
        }
        String subprotocols = settings.subprotocols().isEmpty() ? null : String.join(",", settings.subprotocols());
        return WebSocketClientHandshakerFactory.newHandshaker(settings.uri(), WebSocketVersion.V13, subprotocols,
                false, headers, settings.maxMessageSize(),
                true,   // mask client frames, as RFC 6455 requires
                false,  // refuse masked frames from the server
                -1,     // no forced close: WebSocketConnection runs the close handshake
                false,  // origin-form request target
                false); // no Origin header: this is not a browser
    }
}

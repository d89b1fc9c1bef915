package io.sluice.websocket;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.NetUtil;
import io.sluice.http.ConnectFailedException;
import io.sluice.http.RequestTimeoutException;
import io.sluice.http.spi.NettyTransport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Opens one WebSocket connection: DNS (off the event loop), TCP with the transport's socket
 * options, TLS with ALPN {@code http/1.1}, then the HTTP/1.1 upgrade with the configured
 * headers and subprotocols. The whole attempt is bounded by the handshake timeout; the pool
 * retries failed attempts.
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
    private final SslContext sslContext;
    private final Executor dnsExecutor;
    private final Executor completer;

    WebSocketConnector(WebSocketSettings settings, NettyTransport transport, SslContext sslContext, Executor dnsExecutor,
                       Executor completer) {
        if (settings.secure() && sslContext == null) {
            throw new IllegalArgumentException("a wss:// URL needs a TLS context");
        }
        this.settings = settings;
        this.transport = transport;
        this.sslContext = sslContext;
        this.dnsExecutor = dnsExecutor;
        this.completer = completer;
    }

    /** Opens and upgrades one connection; {@code onBroken} hears, once, that it broke after it opened. */
    CompletableFuture<WebSocketConnection> connect(Consumer<WebSocketConnection> onBroken) {
        CompletableFuture<WebSocketConnection> result = new CompletableFuture<>();
        var timer = transport.group().next().schedule(() -> result.completeExceptionally(
                new RequestTimeoutException(settings.route(), RequestTimeoutException.Phase.CONNECT,
                        settings.handshakeTimeout(), null)), settings.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        result.whenComplete((c, e) -> timer.cancel(false));
        resolve().whenComplete((address, dnsError) -> {
            if (dnsError != null) {
                Throwable cause = dnsError instanceof CompletionException && dnsError.getCause() != null
                        ? dnsError.getCause() : dnsError;
                result.completeExceptionally(new ConnectFailedException(settings.route(),
                        "cannot resolve host: " + cause.getMessage(), cause));
            } else if (!result.isDone()) {
                open(address, result, onBroken);
            }
        });
        return result;
    }

    private CompletableFuture<InetSocketAddress> resolve() {
        String host = settings.host();
        if (NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host)) {
            return CompletableFuture.completedFuture(
                    new InetSocketAddress(NetUtil.createInetAddressFromIpAddressString(host), settings.port()));
        }
        // InetAddress blocks: never on an event loop
        return CompletableFuture.supplyAsync(() -> {
            try {
                return new InetSocketAddress(InetAddress.getByName(host), settings.port());
            } catch (UnknownHostException e) {
                throw new CompletionException(e);
            }
        }, dnsExecutor);
    }

    private void open(InetSocketAddress address, CompletableFuture<WebSocketConnection> result,
                      Consumer<WebSocketConnection> onBroken) {
        WebSocketClientHandshaker handshaker = newHandshaker();
        ChannelFuture cf = transport.bootstrap().handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                if (sslContext != null) {
                    // host and port key the TLS session cache, so later connections resume the session
                    SslHandler ssl = sslContext.newHandler(ch.alloc(), settings.host(), settings.port());
                    ssl.setHandshakeTimeoutMillis(settings.handshakeTimeout().toMillis());
                    ch.pipeline().addLast("tls", ssl);
                }
                // providers send long header blocks (rate limits, request ids): 64 KiB like the HTTP transport
                ch.pipeline().addLast("http", new HttpClientCodec(4096, MAX_HANDSHAKE_RESPONSE, 8192));
                ch.pipeline().addLast("http-aggregator", new HttpObjectAggregator(MAX_HANDSHAKE_RESPONSE));
                ch.pipeline().addLast("ws-upgrade", new UpgradeHandler(handshaker, settings, result,
                        ctx -> new WebSocketConnection(settings, ctx.channel(), handshaker.actualSubprotocol(),
                                completer, onBroken)));
            }
        }).connect(address);
        Channel ch = cf.channel();
        // An attempt that timed out or failed closes its channel (a completed one is owned by its connection).
        result.whenComplete((c, e) -> {
            if (e != null) {
                ch.close();
            }
        });
        cf.addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(WebSocketErrors.connectFailure(settings.route(), f.cause(),
                        settings.handshakeTimeout()));
            }
        });
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

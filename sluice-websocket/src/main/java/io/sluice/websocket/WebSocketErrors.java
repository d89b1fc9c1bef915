package io.sluice.websocket;

import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakeException;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.sluice.http.ConnectFailedException;
import io.sluice.http.ConnectionLostException;
import io.sluice.http.LimitExceededException;
import io.sluice.http.ProtocolException;
import io.sluice.http.RequestTimeoutException;
import io.sluice.http.SluiceHttpException;
import io.sluice.http.TlsFailedException;
import java.time.Duration;
import javax.net.ssl.SSLException;

/**
 * Maps Netty and JDK failures of a WebSocket connection onto the public
 * {@link SluiceHttpException} hierarchy. Messages name the route and the limit or phase,
 * never a header value.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
final class WebSocketErrors {

    private WebSocketErrors() {
    }

    /** A failure while opening the connection (TCP, TLS or upgrade). */
    static SluiceHttpException connectFailure(String route, Throwable t, Duration handshakeTimeout) {
        if (t instanceof SluiceHttpException s) {
            return s;
        }
        if (t instanceof ConnectTimeoutException || t instanceof SslHandshakeTimeoutException) {
            return new RequestTimeoutException(route, RequestTimeoutException.Phase.CONNECT, handshakeTimeout, t);
        }
        if (t instanceof WebSocketClientHandshakeException h) {
            if (h.response() != null && h.response().status().code() != 101) {
                int status = h.response().status().code();
                String phrase = h.response().status().reasonPhrase();
                WebSocketUpgradeRejectedException rejected = new WebSocketUpgradeRejectedException(route, status, phrase);
                String message = WebSocketUpgradeRejectedException.describe(status, phrase);
                return rejected.transientStatus()
                        ? new ConnectFailedException(route, message, rejected)
                        : new ProtocolException(route, message, rejected);
            }
            // 101 with a bad Sec-WebSocket-Accept, Upgrade or subprotocol: Netty's message names only those
            return new ProtocolException(route, "invalid WebSocket handshake response: " + h.getMessage(), h);
        }
        if (isTls(t)) {
            return classifyTls(route, t);
        }
        return new ConnectFailedException(route, "connect failed: " + t, t);
    }

    /** A failure of an open connection: limits, protocol violations, I/O errors. */
    static SluiceHttpException connectionFailure(String route, Throwable t, int maxMessageSize) {
        if (t instanceof SluiceHttpException s) {
            return s;
        }
        if (t instanceof TooLongFrameException
                || (t instanceof CorruptedWebSocketFrameException c
                && WebSocketCloseStatus.MESSAGE_TOO_BIG.equals(c.closeStatus()))) {
            return new LimitExceededException(route, LimitExceededException.Limit.WEBSOCKET_MESSAGE, maxMessageSize);
        }
        if (t instanceof io.netty.handler.codec.CorruptedFrameException || t instanceof io.netty.handler.codec.DecoderException) {
            return new ProtocolException(route, "WebSocket protocol error: " + t.getMessage(), t);
        }
        return new ConnectionLostException(route, "WebSocket connection failed: " + t, t);
    }

    private static boolean isTls(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof SSLException || c instanceof NotSslRecordException) {
                return true;
            }
        }
        return false;
    }

    /** A TLS handshake failure with its reason, classified as the HTTP transport does. */
    static TlsFailedException classifyTls(String route, Throwable failure) {
        return io.sluice.http.spi.TlsFailures.classify(route, failure);
    }
}

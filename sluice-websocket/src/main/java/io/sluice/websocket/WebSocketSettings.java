package io.sluice.websocket;

import io.sluice.http.spi.Redaction;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What every connection of one {@link WebSocketPool} is opened with. Built and validated by
 * {@link WebSocketPool.Builder}.
 *
 * <p><b>Thread-safety:</b> immutable. {@link #toString()} redacts credential headers.
 *
 * @param uri                 the {@code ws://} or {@code wss://} URL, path and query included
 * @param route               {@code scheme://host:port}, the form used in errors and logs
 * @param headers             extra handshake headers in order (Authorization, OpenAI-Beta, ...)
 * @param subprotocols        offered subprotocols, most preferred first; empty offers none
 * @param maxMessageSize      largest message accepted, in bytes, after reassembly
 * @param handshakeTimeout    bound on TCP connect + TLS + HTTP upgrade
 * @param pingTimeout         how long a validation ping waits for its pong
 * @param closeTimeout        how long a closing connection waits for the peer's Close frame
 * @param maxBufferedMessages received messages held per connection before reading pauses (leased)
 *                            or the connection is dropped (idle in the pool)
 */
record WebSocketSettings(URI uri, String route, List<Map.Entry<String, String>> headers, List<String> subprotocols,
                         int maxMessageSize, Duration handshakeTimeout, Duration pingTimeout, Duration closeTimeout,
                         int maxBufferedMessages) {

    WebSocketSettings {
        headers = List.copyOf(headers);
        subprotocols = List.copyOf(subprotocols);
    }

    boolean secure() {
        return uri.getScheme().toLowerCase(Locale.ROOT).equals("wss");
    }

    String host() {
        String h = uri.getHost();
        return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
    }

    int port() {
        int p = uri.getPort();
        return p != -1 ? p : secure() ? 443 : 80;
    }

    @Override
    public String toString() {
        return "WebSocketSettings[uri=" + Redaction.redactUri(uri) + ", headers=" + Redaction.headersToString(headers)
                + ", subprotocols=" + subprotocols + ", maxMessageSize=" + maxMessageSize + ", handshakeTimeout="
                + handshakeTimeout + ", pingTimeout=" + pingTimeout + ", closeTimeout=" + closeTimeout
                + ", maxBufferedMessages=" + maxBufferedMessages + "]";
    }
}

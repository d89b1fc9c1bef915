package io.sluice.cli.soak;

/** The soak's request mix. *
 * <p><b>Thread-safety:</b> immutable enum.
 */
public enum RequestKind {
    /** Plain chat completion over {@code http://} (HTTP/1.1). */
    CHAT_H1("chat_h1", false, false),
    /** Plain chat completion over {@code https://} (HTTP/2 by ALPN). */
    CHAT_H2("chat_h2", false, true),
    /** Streamed chat completion (SSE) over {@code http://} (HTTP/1.1). */
    STREAM_H1("stream_h1", true, false),
    /** Streamed chat completion (SSE) over {@code https://} (HTTP/2). */
    STREAM_H2("stream_h2", true, true),
    /** A realtime session turn over a pooled WebSocket ({@code wss://}). */
    WEBSOCKET("websocket", false, true);

    private final String label;
    private final boolean streaming;
    private final boolean tls;

    RequestKind(String label, boolean streaming, boolean tls) {
        this.label = label;
        this.streaming = streaming;
        this.tls = tls;
    }

    public String label() {
        return label;
    }

    public boolean streaming() {
        return streaming;
    }

    public boolean tls() {
        return tls;
    }

    /** The HTTP kind with this streaming mode on the given protocol. */
    static RequestKind http(boolean streaming, boolean tls) {
        if (streaming) {
            return tls ? STREAM_H2 : STREAM_H1;
        }
        return tls ? CHAT_H2 : CHAT_H1;
    }
}

package io.sluice.websocket;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One complete WebSocket message received from the peer: text or binary, with its
 * fragments already reassembled.
 *
 * <p><b>Thread-safety:</b> immutable. <b>Ownership:</b> the content is a heap copy that
 * belongs to the receiver; nothing here is reference counted, so there is nothing to
 * release. {@link #binary()} returns a read-only view, so one message may be handed around.
 */
public final class WebSocketMessage {

    /** What kind of data frame started the message. */
    public enum Kind {
        /** A text message (UTF-8 on the wire). */
        TEXT,
        /** A binary message. */
        BINARY
    }

    private final Kind kind;
    private final String text;
    private final byte[] bytes;

    private WebSocketMessage(Kind kind, String text, byte[] bytes) {
        this.kind = kind;
        this.text = text;
        this.bytes = bytes;
    }

    /** A text message. */
    public static WebSocketMessage text(String text) {
        return new WebSocketMessage(Kind.TEXT, Objects.requireNonNull(text, "text"), null);
    }

    /** A binary message; the array is taken over, not copied (callers pass a fresh copy). */
    public static WebSocketMessage binary(byte[] bytes) {
        return new WebSocketMessage(Kind.BINARY, null, Objects.requireNonNull(bytes, "bytes"));
    }

    public Kind kind() {
        return kind;
    }

    public boolean isText() {
        return kind == Kind.TEXT;
    }

    /** The text of a text message; throws {@link IllegalStateException} for a binary one. */
    public String text() {
        if (kind != Kind.TEXT) {
            throw new IllegalStateException("binary message (" + bytes.length + " bytes) has no text; use binary()");
        }
        return text;
    }

    /**
     * The payload as a read-only buffer: the bytes of a binary message, or the UTF-8 bytes of
     * a text message.
     */
    public ByteBuffer binary() {
        byte[] b = kind == Kind.BINARY ? bytes : text.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.wrap(b).asReadOnlyBuffer();
    }

    /**
     * The payload's length in bytes as it travelled: a binary message's bytes, a text message's
     * UTF-8 bytes (not its {@code char}s: "héllo" is 6 bytes, an emoji 4). What limits, metrics and
     * a provider's message-size rules count.
     */
    public int size() {
        return kind == Kind.BINARY ? bytes.length : utf8Length(text);
    }

    /** UTF-8 encoded length without encoding; a lone surrogate counts as the one '?' byte the encoders write for it. */
    static int utf8Length(String s) {
        int n = 0;
        for (int i = 0, len = s.length(); i < len; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < len && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                n += 1; // unpaired: the JDK's and Netty's UTF-8 encoders both write '?'
            } else {
                n += 3;
            }
        }
        return n;
    }

    /** Kind and size only: the content may be a conversation or carry secrets. */
    @Override
    public String toString() {
        return "WebSocketMessage[" + kind + ", " + size() + " bytes"
                + "]";
    }
}

package io.sluice.testkit;

import io.netty.buffer.ByteBuf;

/**
 * The events of one streamed answer in one provider's SSE format. Each method appends complete
 * events ({@code ...\n\n}) to {@code out}. Instances are per request and confined to its event
 * loop (some formats number their events).
 */
interface SseScript {
    /** Events before the first token (e.g. {@code message_start}). */
    void opening(ByteBuf out);

    /** The event carrying token {@code index}. */
    void token(int index, ByteBuf out);

    /** A token event whose single {@code data:} line exceeds 1 MiB. */
    void oversizedToken(int index, ByteBuf out);

    /** Events after the last of {@code tokens} tokens (finish reason, usage, terminator). */
    void closing(int tokens, ByteBuf out);

    /** The provider's mid-stream error event; the stream ends after it. */
    void error(ByteBuf out);

    /** Content of an oversized token: 1.25 MiB of ASCII, shared by all formats. */
    String OVERSIZED_TEXT = "x".repeat(1_310_720);
}

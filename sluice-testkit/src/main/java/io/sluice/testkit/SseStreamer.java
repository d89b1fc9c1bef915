package io.sluice.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;

/**
 * Drives one SSE answer: opening events, tokens (spaced by the token delay, or in flushed batches
 * when there is none), closing events, and the stream faults (error event, reset) at their token.
 * Backpressure: without a token delay it writes {@value #BATCH} tokens, then continues only when
 * that batch's write completes, so a slow reader does not make the server buffer the whole answer.
 *
 * <p>Confined to the exchange's event loop.
 */
final class SseStreamer implements Runnable {
    private static final int BATCH = 64;
    private static final int TOKEN_BUFFER = 256;

    private final Exchange ex;
    private final SseScript script;
    private final MockBehavior b;
    private final int tokens;
    private int next;

    SseStreamer(Exchange ex, SseScript script) {
        this.ex = ex;
        this.script = script;
        this.b = ex.behavior();
        this.tokens = b.tokens();
    }

    void start() {
        ByteBuf first = ex.alloc().buffer(512);
        script.opening(first);
        if (ex.startSse(first, tokens)) {
            run();
        }
    }

    @Override
    public void run() {
        int inBatch = 0;
        while (ex.isActive()) {
            if (next == b.errorAfterTokens()) {
                ByteBuf err = ex.alloc().buffer(256);
                script.error(err);
                ex.end(err);
                return;
            }
            if (next == b.resetAfterTokens()) {
                ex.reset();
                return;
            }
            if (next >= tokens) {
                ByteBuf last = ex.alloc().buffer(1024);
                script.closing(tokens, last);
                ex.end(last);
                return;
            }
            ByteBuf buf;
            if (next == 0 && b.malformed() == Malformation.OVERSIZED_SSE_LINE) {
                buf = ex.alloc().buffer(SseScript.OVERSIZED_TEXT.length() + 512);
                script.oversizedToken(next, buf);
            } else {
                buf = ex.alloc().buffer(TOKEN_BUFFER);
                script.token(next, buf);
            }
            next++;
            if (b.tokenDelayMs() > 0) {
                if (ex.writeBody(buf, true)) {
                    ex.schedule(this, b.tokenDelayMs());
                }
                return;
            }
            if (++inBatch == BATCH) {
                ChannelFuture f = ex.writeBodyFuture(buf, true);
                if (f != null) {
                    f.addListener(done -> {
                        if (done.isSuccess()) {
                            run();
                        }
                    });
                }
                return;
            }
            if (!ex.writeBody(buf, false)) {
                return;
            }
        }
    }
}

package io.sluice.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.util.concurrent.ThreadLocalRandom;

/** Small helpers for writing SSE events and provider ids. Stateless and thread-safe. */
final class Sse {
    private static final char[] ALPHABET =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".toCharArray();

    private Sse() {
    }

    /** {@code event: name\ndata: json\n\n}. */
    static void event(ByteBuf out, String name, CharSequence json) {
        ByteBufUtil.writeAscii(out, "event: ");
        ByteBufUtil.writeAscii(out, name);
        ByteBufUtil.writeAscii(out, "\ndata: ");
        ByteBufUtil.writeUtf8(out, json);
        ByteBufUtil.writeAscii(out, "\n\n");
    }

    /** {@code data: json\n\n} (OpenAI chat completions carry no event names). */
    static void data(ByteBuf out, CharSequence json) {
        ByteBufUtil.writeAscii(out, "data: ");
        ByteBufUtil.writeUtf8(out, json);
        ByteBufUtil.writeAscii(out, "\n\n");
    }

    /** A provider-looking id: prefix plus 24 random alphanumerics. */
    static String id(String prefix) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        char[] c = new char[24];
        for (int i = 0; i < c.length; i++) {
            c[i] = ALPHABET[r.nextInt(ALPHABET.length)];
        }
        return prefix + new String(c);
    }

    static long nowSeconds() {
        return System.currentTimeMillis() / 1000;
    }
}

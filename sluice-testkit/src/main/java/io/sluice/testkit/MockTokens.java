package io.sluice.testkit;

/**
 * The deterministic text the mock streams, so tests can check a reassembled answer:
 * {@code MockTokens.text(n)} equals the concatenation of the {@code n} streamed deltas.
 * Stateless and thread-safe.
 */
public final class MockTokens {
    private static final String[] WORDS = {
        "Hello", " from", " the", " Sluice", " mock", " provider", ".", " Streaming", " tokens",
        " one", " at", " a", " time", " for", " your", " tests", "."
    };

    private MockTokens() {
    }

    /** Token number {@code index} (0-based). Plain ASCII without characters JSON must escape. */
    public static String token(int index) {
        return WORDS[index % WORDS.length];
    }

    /** The first {@code count} tokens concatenated. */
    public static String text(int count) {
        StringBuilder sb = new StringBuilder(count * 6);
        for (int i = 0; i < count; i++) {
            sb.append(token(i));
        }
        return sb.toString();
    }
}

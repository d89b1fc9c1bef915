package io.sluice.testkit;

/** Paths the mock serves. Constants only; thread-safe. */
final class Routes {
    static final String CHAT_COMPLETIONS = "/v1/chat/completions";
    static final String RESPONSES = "/v1/responses";
    static final String MESSAGES = "/v1/messages";
    static final String EMBEDDINGS = "/v1/embeddings";
    static final String MODELS = "/v1/models";
    static final String GENERATE_204 = "/generate_204";
    static final String PING = "/ping";
    static final String REALTIME = "/v1/realtime";

    private Routes() {
    }

    /** The path of a request target without query or fragment. */
    static String pathOf(String uri) {
        int q = uri.indexOf('?');
        int h = uri.indexOf('#');
        int end = q < 0 ? h : (h < 0 ? q : Math.min(q, h));
        String path = end < 0 ? uri : uri.substring(0, end);
        // Absolute-form targets ("http://host/path") are legal in HTTP/1.1 requests.
        if (path.startsWith("http://") || path.startsWith("https://")) {
            int slash = path.indexOf('/', path.indexOf("//") + 2);
            path = slash < 0 ? "/" : path.substring(slash);
        }
        return path;
    }

    /** Anthropic-style error bodies and headers belong to the Messages API; the rest is OpenAI-style. */
    static boolean isAnthropic(String path) {
        return path.startsWith(MESSAGES);
    }
}

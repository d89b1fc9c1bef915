package io.sluice.bench.compare;

import java.nio.charset.StandardCharsets;

/** The request every client sends: a small non-streaming chat completion. */
final class Workload {
    static final String PATH = "/v1/chat/completions";
    static final String CONTENT_TYPE = "application/json";
    static final String AUTHORIZATION = "Bearer sk-bench";
    static final String DELAY_HEADER = "x-mock-delay-ms";
    static final byte[] BODY = ("{\"model\":\"gpt-4o-mini\",\"max_tokens\":16,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"Say hello in one short sentence.\"}]}")
            .getBytes(StandardCharsets.UTF_8);

    private Workload() {
    }
}

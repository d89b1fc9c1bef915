package io.sluice.testkit;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One API path's behaviour once routing, auth, knobs and delays are settled. Implementations are
 * stateless and thread-safe; per-request state lives in the {@link Exchange} and the scripts they
 * create.
 */
interface Endpoint {
    /**
     * Answers the request on the exchange's event loop.
     *
     * @param body         the parsed JSON request body, or null for body-less methods
     * @param promptTokens a rough prompt size (request bytes / 4) for usage figures
     */
    void serve(Exchange ex, JsonNode body, long promptTokens);
}

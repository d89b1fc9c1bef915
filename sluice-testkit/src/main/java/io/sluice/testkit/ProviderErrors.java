package io.sluice.testkit;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

/**
 * Error bodies in the providers' shapes: OpenAI's {@code {"error":{message,type,param,code}}} and
 * Anthropic's {@code {"type":"error","error":{type,message}}}, plus the matching SSE error events.
 * Stateless and thread-safe.
 */
final class ProviderErrors {
    private ProviderErrors() {
    }

    /** The JSON error body for an HTTP error status on the given API family. */
    static String body(int status, boolean anthropic, String message) {
        return anthropic
                ? anthropic(anthropicType(status), message)
                : openAi(message, openAiType(status), openAiCode(status));
    }

    /** A default human message for an injected status. */
    static String defaultMessage(int status, boolean anthropic) {
        return switch (status) {
            case 429 -> anthropic
                    ? "Number of request tokens has exceeded your per-minute rate limit (mock)"
                    : "Rate limit reached for requests (mock). Please try again later.";
            case 500 -> anthropic ? "Internal server error (mock)"
                    : "The server had an error while processing your request. Sorry about that! (mock)";
            case 503 -> anthropic ? "Service unavailable (mock)" : "The engine is currently overloaded, please try again later (mock)";
            case 529 -> "Overloaded (mock)";
            default -> "Mock error status " + status;
        };
    }

    static String openAi(String message, String type, String code) {
        return "{\"error\":{\"message\":" + quote(message) + ",\"type\":" + quote(type)
                + ",\"param\":null,\"code\":" + (code == null ? "null" : quote(code)) + "}}";
    }

    static String anthropic(String type, String message) {
        return "{\"type\":\"error\",\"error\":{\"type\":" + quote(type) + ",\"message\":" + quote(message) + "}}";
    }

    static String anthropicType(int status) {
        return switch (status) {
            case 400, 405, 422 -> "invalid_request_error";
            case 401 -> "authentication_error";
            case 403 -> "permission_error";
            case 404 -> "not_found_error";
            case 413 -> "request_too_large";
            case 429 -> "rate_limit_error";
            case 529 -> "overloaded_error";
            default -> status >= 500 ? "api_error" : "invalid_request_error";
        };
    }

    static String openAiType(int status) {
        if (status == 429) {
            return "requests";
        }
        return status >= 500 ? "server_error" : "invalid_request_error";
    }

    static String openAiCode(int status) {
        return switch (status) {
            case 401 -> "invalid_api_key";
            case 404 -> "unknown_url";
            case 405 -> "method_not_allowed";
            case 413 -> "request_too_large";
            case 429 -> "rate_limit_exceeded";
            default -> null;
        };
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        JsonStringEncoder.getInstance().quoteAsString(s, sb);
        return sb.append('"').toString();
    }
}

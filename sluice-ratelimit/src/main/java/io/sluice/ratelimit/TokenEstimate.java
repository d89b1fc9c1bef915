package io.sluice.ratelimit;

import io.sluice.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The default token estimate of a request, before the provider counts it: the prompt at about four bytes
 * a token (the body's size / 4) plus the completion the request allows ({@code max_tokens},
 * {@code max_output_tokens} or {@code max_completion_tokens} in a JSON body). Providers count a request's
 * token limit the same way (prompt plus the maximum it may generate) when they admit it. Streamed bodies
 * whose bytes are not known count 0. The response's token figures replace the estimate.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
public final class TokenEstimate {

    private static final Pattern MAX = Pattern.compile(
            "\"(?:max_tokens|max_output_tokens|max_completion_tokens)\"\\s*:\\s*(\\d{1,9})");
    /** Only the head of a large body is searched for the limit: requests put their options near the top or bottom. */
    private static final int SCAN = 64 * 1024;

    private TokenEstimate() {
    }

    /** Body bytes / 4 + the completion limit the body names. */
    public static long of(HttpRequest request) {
        byte[] body = request.bodyBytes();
        if (body == null || body.length == 0) {
            return 0;
        }
        long prompt = body.length / 4;
        String head = new String(body, 0, Math.min(body.length, SCAN), StandardCharsets.UTF_8);
        Matcher m = MAX.matcher(head);
        long completion = 0;
        if (m.find()) {
            completion = Long.parseLong(m.group(1));
        } else if (body.length > SCAN) {
            String tail = new String(body, body.length - SCAN, SCAN, StandardCharsets.UTF_8);
            Matcher t = MAX.matcher(tail);
            if (t.find()) {
                completion = Long.parseLong(t.group(1));
            }
        }
        return prompt + completion;
    }
}

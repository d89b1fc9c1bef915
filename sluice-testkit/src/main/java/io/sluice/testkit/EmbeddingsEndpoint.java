package io.sluice.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code POST /v1/embeddings}: an OpenAI embedding list with one deterministic vector per input, as
 * a float array or, with {@code "encoding_format":"base64"} (the OpenAI SDKs' default), base64 of
 * little-endian float32. Dimensions come from {@code "dimensions"}, default 1536. The encoded vector
 * text is cached per dimension count. Thread-safe: the cache is a concurrent map.
 */
final class EmbeddingsEndpoint implements Endpoint {
    static final int DEFAULT_DIMENSIONS = 1536;
    static final int MAX_DIMENSIONS = 8192;
    private static final int MAX_INPUTS = 2048;

    private final ConcurrentHashMap<Integer, String> floatText = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Integer, String> base64Text = new ConcurrentHashMap<>();

    @Override
    public void serve(Exchange ex, JsonNode body, long promptTokens) {
        JsonNode input = body.get("input");
        int count;
        if (input == null || input.isNull()) {
            ex.respondError(400, "Missing required parameter: 'input'.");
            return;
        } else if (input.isTextual()) {
            count = 1;
        } else if (input.isArray() && !input.isEmpty()) {
            // An array of integers is one pre-tokenised input; an array of strings/arrays is many.
            count = input.get(0).isNumber() ? 1 : input.size();
        } else {
            ex.respondError(400, "'input' must be a non-empty string or array.");
            return;
        }
        if (count > MAX_INPUTS) {
            ex.respondError(400, "'input' must have at most " + MAX_INPUTS + " items.");
            return;
        }
        int dims = body.path("dimensions").asInt(DEFAULT_DIMENSIONS);
        if (dims < 1 || dims > MAX_DIMENSIONS) {
            ex.respondError(400, "'dimensions' must be between 1 and " + MAX_DIMENSIONS + ".");
            return;
        }
        String format = body.path("encoding_format").asText("float");
        String vector;
        if (format.equals("base64")) {
            vector = base64Text.computeIfAbsent(dims, EmbeddingsEndpoint::base64);
        } else if (format.equals("float")) {
            vector = floatText.computeIfAbsent(dims, EmbeddingsEndpoint::floats);
        } else {
            ex.respondError(400, "'encoding_format' must be 'float' or 'base64'.");
            return;
        }
        StringBuilder sb = new StringBuilder(64 + count * (vector.length() + 48)).append("{\"object\":\"list\",\"data\":[");
        for (int i = 0; i < count; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append("{\"object\":\"embedding\",\"index\":").append(i).append(",\"embedding\":").append(vector).append('}');
        }
        sb.append("],\"model\":").append(ProviderErrors.quote(body.path("model").asText()))
                .append(",\"usage\":{\"prompt_tokens\":").append(promptTokens)
                .append(",\"total_tokens\":").append(promptTokens).append("}}");
        ex.respond(HttpResponseStatus.OK, Exchange.JSON, sb.toString(), promptTokens);
    }

    /** A unit-length deterministic vector. */
    static float[] vector(int dims) {
        float[] v = new float[dims];
        double norm = 0;
        for (int i = 0; i < dims; i++) {
            v[i] = (float) Math.sin(i + 1.0);
            norm += v[i] * v[i];
        }
        float scale = (float) (1 / Math.sqrt(norm));
        for (int i = 0; i < dims; i++) {
            v[i] *= scale;
        }
        return v;
    }

    private static String floats(int dims) {
        float[] v = vector(dims);
        StringBuilder sb = new StringBuilder(dims * 12).append('[');
        for (int i = 0; i < dims; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(v[i]);
        }
        return sb.append(']').toString();
    }

    private static String base64(int dims) {
        ByteBuffer buf = ByteBuffer.allocate(dims * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : vector(dims)) {
            buf.putFloat(f);
        }
        return '"' + Base64.getEncoder().encodeToString(buf.array()) + '"';
    }
}

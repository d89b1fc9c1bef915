package io.sluice.http;

/**
 * Response size limits; exceeding one fails the request with {@link LimitExceededException},
 * drops the connection (HTTP/1.1) or resets the stream (HTTP/2), and frees the slot.
 *
 * <p><b>Thread-safety:</b> immutable.
 *
 * @param maxHeaderBlockBytes response header block (HTTP/1.1 header section / HTTP/2 header list), default 64 KiB
 * @param maxBodyBytes        an aggregated response body, default 64 MiB (streamed bodies are not bounded)
 * @param maxSseLineBytes     one server-sent-events line, default 1 MiB
 */
public record Limits(int maxHeaderBlockBytes, long maxBodyBytes, int maxSseLineBytes) {

    public Limits {
        if (maxHeaderBlockBytes < 1024 || maxBodyBytes < 1 || maxSseLineBytes < 1) {
            throw new IllegalArgumentException("limits must be positive (header block at least 1024): "
                    + maxHeaderBlockBytes + ", " + maxBodyBytes + ", " + maxSseLineBytes);
        }
        if (maxBodyBytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("maxBodyBytes must fit a Java array, was " + maxBodyBytes);
        }
    }

    /** 64 KiB header block, 64 MiB body, 1 MiB SSE line. */
    public static Limits defaults() {
        return new Limits(64 * 1024, 64L * 1024 * 1024, 1024 * 1024);
    }
}

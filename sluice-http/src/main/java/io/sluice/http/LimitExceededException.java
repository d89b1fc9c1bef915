package io.sluice.http;

/** A response exceeded a configured limit; the connection was dropped and its slot freed. Immutable. */
public final class LimitExceededException extends SluiceHttpException {

    /** The enforced limits. */
    public enum Limit {
        /** The response header block (default 64 KiB). */
        HEADER_BLOCK,
        /** An aggregated response body (default 64 MiB). */
        BODY,
        /** One server-sent-events line (default 1 MiB). */
        SSE_LINE,
        /** One WebSocket message. */
        WEBSOCKET_MESSAGE
    }

    private final Limit limit;
    private final long maxBytes;

    public LimitExceededException(String route, Limit limit, long maxBytes) {
        super(route, limit.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + " exceeds the limit of "
                + maxBytes + " bytes", null);
        this.limit = limit;
        this.maxBytes = maxBytes;
    }

    public Limit limit() {
        return limit;
    }

    public long maxBytes() {
        return maxBytes;
    }
}

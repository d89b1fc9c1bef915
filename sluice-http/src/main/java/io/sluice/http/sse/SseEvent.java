package io.sluice.http.sse;

import java.util.Objects;

/**
 * One dispatched server-sent event, as the WHATWG "event stream interpretation" defines it.
 *
 * <p><b>Thread-safety:</b> immutable.
 *
 * @param event       the event type: the last {@code event:} field of the block, or {@code "message"} when the
 *                    block had none (or an empty one)
 * @param data        the {@code data:} lines of the block joined with {@code '\n'}; never null, may be empty
 *                    (a block with a bare {@code data} line dispatches an event with empty data)
 * @param id          the stream's last event id at dispatch time: it persists across events until an {@code id:}
 *                    field changes it; null when no id was ever set or an empty {@code id:} field reset it
 *                    (the spec's "empty last event ID", meaning "send no Last-Event-ID when reconnecting")
 * @param retryMillis the reconnection time most recently set by a {@code retry:} field anywhere earlier in the
 *                    stream (it persists, like the id), or -1 when the stream never set one
 */
public record SseEvent(String event, String data, String id, long retryMillis) {

    /** The type of an event whose block carried no (or an empty) {@code event:} field. */
    public static final String DEFAULT_EVENT = "message";

    public SseEvent {
        Objects.requireNonNull(data, "data");
        if (event == null || event.isEmpty()) {
            event = DEFAULT_EVENT;
        }
        if (id != null && id.isEmpty()) {
            id = null; // one spelling of "no id", so callers test only for null
        }
        if (retryMillis < -1) {
            throw new IllegalArgumentException("retryMillis must be -1 (unset) or >= 0, was " + retryMillis);
        }
    }

    /** A {@code message} event with the given data, no id and no retry: convenient in tests and adapters. */
    public static SseEvent message(String data) {
        return new SseEvent(DEFAULT_EVENT, data, null, -1);
    }
}

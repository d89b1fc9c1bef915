package io.sluice.http.sse;

import io.sluice.http.LimitExceededException;
import io.sluice.http.LimitExceededException.Limit;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * An incremental {@code text/event-stream} parser that follows the WHATWG HTML "event stream interpretation"
 * rules: a leading UTF-8 BOM is dropped; lines end with CRLF, LF or CR (a CR that ends one chunk and an LF that
 * starts the next are one line ending); a line starting with {@code ':'} is a comment; a field splits on the first
 * {@code ':'} and loses one leading space of its value; {@code event}, {@code data}, {@code id} (ignored when it
 * contains NUL, persists across events) and {@code retry} (ASCII digits only) are understood and other fields
 * ignored; a blank line dispatches the block, unless no {@code data} line was seen, in which case only the event
 * type is reset; at {@link #end()} an unfinished block is discarded.
 *
 * <p>Bytes are scanned for CR and LF directly and decoded as UTF-8 one line at a time. CR and LF never occur inside
 * a multi-byte UTF-8 sequence, so a character split across chunks simply stays in the partial-line buffer until its
 * line ends. A line lying wholly inside a heap chunk is decoded straight from the chunk's array; only a line that
 * straddles chunks (or comes from a direct buffer) is copied, once, into the line buffer. Invalid UTF-8 decodes to
 * U+FFFD, as the spec's decoder does.
 *
 * <p>Memory is bounded: a line longer than {@code maxLineBytes} (terminator excluded) fails with
 * {@link LimitExceededException} ({@link Limit#SSE_LINE}) as soon as the excess arrives, without buffering it; the
 * same bound applies to the joined data of one pending event, so a server that never sends a blank line cannot grow
 * the heap without limit either.
 *
 * <p><b>Thread-safety:</b> not thread-safe. Use one parser per response stream, fed from one thread at a time (an
 * event loop, or a reader with happens-before between calls). After it throws - a limit, or an exception from the
 * sink - the parser is failed and every later {@code feed} throws {@link IllegalStateException}: the stream must be
 * abandoned, because the rest of the chunk was not parsed.
 */
public final class SseParser {

    /** The default per-line limit, 1 MiB: far above any provider's event, far below a heap problem. */
    public static final int DEFAULT_MAX_LINE_BYTES = 1 << 20;

    private static final byte CR = '\r';
    private static final byte LF = '\n';
    private static final byte COLON = ':';
    private static final byte[] FIELD_DATA = ascii("data");
    private static final byte[] FIELD_EVENT = ascii("event");
    private static final byte[] FIELD_ID = ascii("id");
    private static final byte[] FIELD_RETRY = ascii("retry");
    private static final int INITIAL_LINE_CAPACITY = 256;
    /** A data builder grown past this is dropped after its event, so one big event does not pin memory forever. */
    private static final int RETAINED_DATA_CAPACITY = 64 * 1024;
    /** Event names longer than this are not cached (provider names are short; the cache saves a String per event). */
    private static final int MAX_CACHED_TYPE_BYTES = 64;

    private final int maxLineBytes;
    private final String route;

    // Line state: the bytes of a line that has not ended yet (also the staging area for direct buffers).
    private byte[] line = new byte[0];
    private int lineLength;
    /** The previous chunk ended with CR: an LF at the start of the next chunk belongs to the same line ending. */
    private boolean crPending;
    /** No line processed yet, so a BOM at the start of the next line is the stream's BOM. */
    private boolean atStreamStart = true;
    private boolean ended;
    private boolean failed;

    // Block state, reset at each dispatch.
    private String eventType;
    private int dataLines;
    /** The only data line of a block: the common case keeps it as-is instead of copying into {@link #moreData}. */
    private String firstData;
    private StringBuilder moreData;
    private long dataChars;

    // Stream state: persists across events.
    private String lastEventId;
    private long retryMillis = -1;
    private long commentLines;

    // One-entry cache of the last event type: Anthropic/OpenAI Responses streams repeat the same few names.
    private byte[] cachedTypeBytes;
    private String cachedType;

    /**
     * @param maxLineBytes the longest accepted line in bytes, terminator excluded ({@link #DEFAULT_MAX_LINE_BYTES})
     * @param route        the route named in a {@link LimitExceededException}, as {@code scheme://host:port}
     */
    public SseParser(int maxLineBytes, String route) {
        if (maxLineBytes <= 0) {
            throw new IllegalArgumentException("maxLineBytes must be positive, was " + maxLineBytes);
        }
        this.maxLineBytes = maxLineBytes;
        this.route = route;
    }

    /** A parser with the {@link #DEFAULT_MAX_LINE_BYTES default} line limit. */
    public SseParser(String route) {
        this(DEFAULT_MAX_LINE_BYTES, route);
    }

    /**
     * Parses the chunk's remaining bytes and hands each completed event to {@code sink}, in order, before returning.
     * The chunk is consumed: its position ends at its limit. The parser keeps no reference to the chunk, so the
     * caller may release or reuse it afterwards.
     *
     * @throws LimitExceededException when a line (or one event's data) exceeds {@code maxLineBytes}
     * @throws IllegalStateException  after {@link #end()} or after an earlier failure
     */
    public void feed(ByteBuffer chunk, Consumer<? super SseEvent> sink) {
        Objects.requireNonNull(chunk, "chunk");
        Objects.requireNonNull(sink, "sink");
        checkUsable();
        try {
            if (chunk.hasArray()) {
                feedArray(chunk.array(), chunk.arrayOffset() + chunk.position(), chunk.arrayOffset() + chunk.limit(),
                        sink);
            } else {
                feedBuffer(chunk, sink);
            }
            chunk.position(chunk.limit());
        } catch (RuntimeException | Error e) {
            failed = true;
            throw e;
        }
    }

    /** {@link #feed(ByteBuffer, Consumer)} over {@code bytes[offset, offset + length)}, without copying them first. */
    public void feed(byte[] bytes, int offset, int length, Consumer<? super SseEvent> sink) {
        feed(ByteBuffer.wrap(bytes, offset, length), sink);
    }

    /** Convenience form of {@link #feed(ByteBuffer, Consumer)} that collects the events into a new list. */
    public List<SseEvent> feed(ByteBuffer chunk) {
        List<SseEvent> events = new ArrayList<>(2);
        feed(chunk, events::add);
        return events;
    }

    /**
     * Marks the end of the stream. Per the spec a block without its closing blank line (and any unterminated last
     * line) is discarded, never dispatched. Idempotent; later {@code feed} calls throw.
     *
     * @return true when something was discarded (the stream ended mid-line or mid-event, which usually means it was
     *         cut short), so a caller can log or surface it
     */
    public boolean end() {
        boolean discarded = !ended && !failed && (lineLength > 0 || dataLines > 0 || eventType != null);
        ended = true;
        lineLength = 0;
        line = new byte[0];
        resetBlock();
        return discarded;
    }

    /** The current last event id (what a reconnect would send as {@code Last-Event-ID}), or null when none. */
    public String lastEventId() {
        return lastEventId;
    }

    /** The reconnection time last set by a {@code retry} field, or -1 when the stream never set one. */
    public long retryMillis() {
        return retryMillis;
    }

    /** Comment lines seen so far; providers send them as heartbeats (e.g. {@code : ping}) on idle streams. */
    public long commentLines() {
        return commentLines;
    }

    /** The line limit this parser enforces, in bytes. */
    public int maxLineBytes() {
        return maxLineBytes;
    }

    private void checkUsable() {
        if (ended) {
            throw new IllegalStateException("SSE parser fed after end(): the stream was already finished");
        }
        if (failed) {
            throw new IllegalStateException("SSE parser fed after it failed: abandon the stream after a limit or "
                    + "sink error, its remaining bytes were not parsed");
        }
    }

    private void feedArray(byte[] a, int pos, int limit, Consumer<? super SseEvent> sink) {
        if (crPending && pos < limit) {
            crPending = false;
            if (a[pos] == LF) {
                pos++;
            }
        }
        while (pos < limit) {
            int eol = pos;
            while (eol < limit && a[eol] != LF && a[eol] != CR) {
                eol++;
            }
            if (eol == limit) {
                append(a, pos, limit - pos);
                return;
            }
            if (lineLength == 0) {
                checkLineLength(eol - pos);
                processLine(a, pos, eol - pos, sink);
            } else {
                append(a, pos, eol - pos);
                int length = lineLength;
                lineLength = 0; // before processing, so a sink exception cannot leave a stale line behind
                processLine(line, 0, length, sink);
            }
            pos = eol + 1;
            if (a[eol] == CR) {
                if (pos == limit) {
                    crPending = true;
                } else if (a[pos] == LF) {
                    pos++;
                }
            }
        }
    }

    /** Direct or read-only buffers: scan with absolute gets, stage each line in {@link #line} (the single copy). */
    private void feedBuffer(ByteBuffer b, Consumer<? super SseEvent> sink) {
        int pos = b.position();
        int limit = b.limit();
        if (crPending && pos < limit) {
            crPending = false;
            if (b.get(pos) == LF) {
                pos++;
            }
        }
        while (pos < limit) {
            int eol = pos;
            byte c = 0;
            while (eol < limit && (c = b.get(eol)) != LF && c != CR) {
                eol++;
            }
            appendFrom(b, pos, eol - pos);
            if (eol == limit) {
                return;
            }
            int length = lineLength;
            lineLength = 0;
            processLine(line, 0, length, sink);
            pos = eol + 1;
            if (c == CR) {
                if (pos == limit) {
                    crPending = true;
                } else if (b.get(pos) == LF) {
                    pos++;
                }
            }
        }
    }

    private void checkLineLength(long length) {
        if (length > maxLineBytes) {
            throw new LimitExceededException(route, Limit.SSE_LINE, maxLineBytes);
        }
    }

    private void append(byte[] src, int offset, int length) {
        ensureLineCapacity(length);
        System.arraycopy(src, offset, line, lineLength, length);
        lineLength += length;
    }

    private void appendFrom(ByteBuffer src, int index, int length) {
        ensureLineCapacity(length);
        src.get(index, line, lineLength, length);
        lineLength += length;
    }

    /** Checks the limit before copying anything, so an over-long line is refused without being buffered. */
    private void ensureLineCapacity(int extra) {
        long needed = (long) lineLength + extra;
        checkLineLength(needed);
        if (needed > line.length) {
            int grown = (int) Math.min(maxLineBytes, Math.max(needed, Math.max(INITIAL_LINE_CAPACITY, line.length * 2L)));
            line = Arrays.copyOf(line, grown);
        }
    }

    private void processLine(byte[] b, int off, int len, Consumer<? super SseEvent> sink) {
        if (atStreamStart) {
            atStreamStart = false;
            // The UTF-8 decode step drops one BOM at the very start of the stream, nowhere else.
            if (len >= 3 && b[off] == (byte) 0xEF && b[off + 1] == (byte) 0xBB && b[off + 2] == (byte) 0xBF) {
                off += 3;
                len -= 3;
            }
        }
        if (len == 0) {
            dispatch(sink);
            return;
        }
        if (b[off] == COLON) {
            commentLines++;
            return;
        }
        int end = off + len;
        int nameEnd = off;
        while (nameEnd < end && b[nameEnd] != COLON) {
            nameEnd++;
        }
        int valueStart = nameEnd;
        if (nameEnd < end) {
            valueStart++; // skip the colon
            if (valueStart < end && b[valueStart] == ' ') {
                valueStart++; // exactly one leading space is removed, no more
            }
        }
        int valueLength = end - valueStart;
        // Field names are compared as bytes: no String is made for them.
        if (Arrays.equals(b, off, nameEnd, FIELD_DATA, 0, FIELD_DATA.length)) {
            appendData(decode(b, valueStart, valueLength));
        } else if (Arrays.equals(b, off, nameEnd, FIELD_EVENT, 0, FIELD_EVENT.length)) {
            eventType = eventType(b, valueStart, valueLength);
        } else if (Arrays.equals(b, off, nameEnd, FIELD_ID, 0, FIELD_ID.length)) {
            if (!containsNul(b, valueStart, end)) {
                lastEventId = valueLength == 0 ? null : decode(b, valueStart, valueLength);
            }
        } else if (Arrays.equals(b, off, nameEnd, FIELD_RETRY, 0, FIELD_RETRY.length)) {
            long parsed = parseDigits(b, valueStart, end);
            if (parsed >= 0) {
                retryMillis = parsed;
            }
        }
        // any other field is ignored, as the spec requires
    }

    private void appendData(String value) {
        // Counted in chars, which never outnumber the UTF-8 bytes they came from: a cheap, safe upper bound.
        dataChars += value.length() + (dataLines == 0 ? 0 : 1);
        if (dataChars > maxLineBytes) {
            throw new LimitExceededException(route, Limit.SSE_LINE, maxLineBytes);
        }
        if (dataLines == 0) {
            firstData = value;
        } else {
            if (dataLines == 1) {
                if (moreData == null) {
                    moreData = new StringBuilder(Math.max(64, firstData.length() * 2 + value.length()));
                }
                moreData.setLength(0);
                moreData.append(firstData);
            }
            // Joining with '\n' and never adding one after the last line is the spec's "append LF, then
            // strip the final LF at dispatch".
            moreData.append('\n').append(value);
        }
        dataLines++;
    }

    private void dispatch(Consumer<? super SseEvent> sink) {
        if (dataLines == 0) {
            eventType = null; // the spec resets the type even when nothing is dispatched
            return;
        }
        String data = dataLines == 1 ? firstData : moreData.toString();
        SseEvent event = new SseEvent(eventType, data, lastEventId, retryMillis);
        resetBlock(); // before the sink runs, so its exceptions cannot leave half a block behind
        sink.accept(event);
    }

    private void resetBlock() {
        eventType = null;
        dataLines = 0;
        dataChars = 0;
        firstData = null;
        if (moreData != null && moreData.capacity() > RETAINED_DATA_CAPACITY) {
            moreData = null;
        }
    }

    private String eventType(byte[] b, int off, int len) {
        if (len == 0) {
            return null; // an empty type means "message"
        }
        if (cachedTypeBytes != null && Arrays.equals(cachedTypeBytes, 0, cachedTypeBytes.length, b, off, off + len)) {
            return cachedType;
        }
        String type = decode(b, off, len);
        if (len <= MAX_CACHED_TYPE_BYTES) {
            cachedTypeBytes = Arrays.copyOfRange(b, off, off + len);
            cachedType = type;
        }
        return type;
    }

    private static String decode(byte[] b, int off, int len) {
        return len == 0 ? "" : new String(b, off, len, StandardCharsets.UTF_8);
    }

    private static boolean containsNul(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] == 0) {
                return true; // in UTF-8, U+0000 is the byte 0x00 and 0x00 is nothing else
            }
        }
        return false;
    }

    /** The value as a non-negative long when it is one or more ASCII digits (and fits), otherwise -1. */
    private static long parseDigits(byte[] b, int from, int to) {
        if (from == to) {
            return -1;
        }
        long value = 0;
        for (int i = from; i < to; i++) {
            int digit = b[i] - '0';
            if (digit < 0 || digit > 9) {
                return -1;
            }
            if (value > (Long.MAX_VALUE - digit) / 10) {
                return -1; // absurdly large: ignore the field rather than wrap around
            }
            value = value * 10 + digit;
        }
        return value;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}

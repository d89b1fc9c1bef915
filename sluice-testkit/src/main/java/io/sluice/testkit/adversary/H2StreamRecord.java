package io.sluice.testkit.adversary;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What {@link AdversaryH2Server} received on one request stream: its headers, how many body
 * bytes, whether END_STREAM arrived, and the RST_STREAM codes the client sent. Tests assert on
 * it to check what the client really put on the wire (e.g. "the POST arrived exactly once").
 *
 * <p>Thread-safe: written on the connection's event loop, read from any thread. Holds no resources.
 */
public final class H2StreamRecord {
    private final int requestNumber;
    private final int connectionNumber;
    private final int streamId;
    private final Map<String, List<String>> headers;
    private final AtomicLong bodyBytes = new AtomicLong();
    private final List<Long> rstCodes = new CopyOnWriteArrayList<>();
    private final CompletableFuture<Void> requestEnded = new CompletableFuture<>();
    private volatile boolean endStream;

    H2StreamRecord(int requestNumber, int connectionNumber, int streamId, Iterable<Map.Entry<CharSequence, CharSequence>> h) {
        this.requestNumber = requestNumber;
        this.connectionNumber = connectionNumber;
        this.streamId = streamId;
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (Map.Entry<CharSequence, CharSequence> e : h) {
            m.computeIfAbsent(e.getKey().toString().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(e.getValue().toString());
        }
        m.replaceAll((k, v) -> List.copyOf(v));
        this.headers = Collections.unmodifiableMap(m);
    }

    /** 1-based arrival order of this request across all connections of the server. */
    public int requestNumber() {
        return requestNumber;
    }

    /** 1-based number of the connection it arrived on. */
    public int connectionNumber() {
        return connectionNumber;
    }

    public int streamId() {
        return streamId;
    }

    /** Every request header, pseudo-headers included, names in lower case. */
    public Map<String, List<String>> headers() {
        return headers;
    }

    /** The first value of {@code name}, or null. */
    public String header(String name) {
        List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    public String method() {
        return header(":method");
    }

    public String path() {
        return header(":path");
    }

    /** Request body bytes received so far (DATA payloads, padding excluded). */
    public long bodyBytes() {
        return bodyBytes.get();
    }

    /** Whether the client ended its side of the stream (END_STREAM on HEADERS or DATA). */
    public boolean endStreamReceived() {
        return endStream;
    }

    /** The RST_STREAM codes the client sent for this stream, in order. */
    public List<Long> rstCodesReceived() {
        return List.copyOf(rstCodes);
    }

    /** Waits until END_STREAM or an RST_STREAM arrived; false when {@code timeout} passed first. */
    public boolean awaitRequestEnd(Duration timeout) throws InterruptedException {
        try {
            requestEnded.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    CompletableFuture<Void> requestEnded() {
        return requestEnded;
    }

    void addBody(int bytes) {
        bodyBytes.addAndGet(bytes);
    }

    void endStream() {
        endStream = true;
        requestEnded.complete(null);
    }

    void rst(long code) {
        rstCodes.add(code);
        requestEnded.complete(null);
    }

    @Override
    public String toString() {
        return "request " + requestNumber + " (connection " + connectionNumber + ", stream " + streamId + ") "
                + method() + " " + path() + ", body " + bodyBytes() + " bytes, endStream=" + endStream
                + ", rst=" + rstCodes;
    }
}

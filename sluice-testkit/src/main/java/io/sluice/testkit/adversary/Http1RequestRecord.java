package io.sluice.testkit.adversary;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One request {@link AdversaryHttp1Server} received: the raw head, the parsed request line and
 * headers, and the body bytes read so far. Tests assert on it to check what the client really
 * sent, and on which connection.
 *
 * <p>Thread-safe: written by the connection's thread, read from any thread. Holds no resources.
 */
public final class Http1RequestRecord {
    private final int requestNumber;
    private final int connectionNumber;
    private final String rawHead;
    private final String method;
    private final String target;
    private final Map<String, List<String>> headers;
    private final boolean afterServerClosed;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    private volatile boolean bodyComplete;

    Http1RequestRecord(int requestNumber, int connectionNumber, String rawHead, boolean afterServerClosed) {
        this.requestNumber = requestNumber;
        this.connectionNumber = connectionNumber;
        this.rawHead = rawHead;
        this.afterServerClosed = afterServerClosed;
        String[] lines = rawHead.split("\r\n");
        String[] requestLine = lines[0].split(" ", 3);
        this.method = requestLine[0];
        this.target = requestLine.length > 1 ? requestLine[1] : "";
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                m.computeIfAbsent(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                        .add(lines[i].substring(colon + 1).trim());
            }
        }
        m.replaceAll((k, v) -> List.copyOf(v));
        this.headers = Collections.unmodifiableMap(m);
    }

    /** 1-based arrival order across all connections. */
    public int requestNumber() {
        return requestNumber;
    }

    /** 1-based number of the connection it arrived on. */
    public int connectionNumber() {
        return connectionNumber;
    }

    /** The request line and header lines as received, without the final empty line. */
    public String rawHead() {
        return rawHead;
    }

    public String method() {
        return method;
    }

    public String target() {
        return target;
    }

    /** Header fields, names in lower case. */
    public Map<String, List<String>> headers() {
        return headers;
    }

    /** The first value of {@code name}, or null. */
    public String header(String name) {
        List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    /** Whether it arrived after the server had closed its side of the connection (it was never answered). */
    public boolean afterServerClosed() {
        return afterServerClosed;
    }

    /** The body bytes read so far (decoded from chunked framing). */
    public byte[] body() {
        synchronized (body) {
            return body.toByteArray();
        }
    }

    public int bodyBytes() {
        synchronized (body) {
            return body.size();
        }
    }

    public String bodyAsString() {
        return new String(body(), StandardCharsets.UTF_8);
    }

    /** Whether the whole body (per its framing) was read. */
    public boolean bodyComplete() {
        return bodyComplete;
    }

    void addBody(byte[] b, int off, int len) {
        synchronized (body) {
            body.write(b, off, len);
        }
    }

    void markBodyComplete() {
        bodyComplete = true;
    }

    @Override
    public String toString() {
        return "request " + requestNumber + " (connection " + connectionNumber + ") " + method + " " + target
                + ", body " + bodyBytes() + " bytes" + (bodyComplete ? "" : " (incomplete)")
                + (afterServerClosed ? ", after the server closed" : "");
    }
}

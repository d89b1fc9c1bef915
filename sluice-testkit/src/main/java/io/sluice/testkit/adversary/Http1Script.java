package io.sluice.testkit.adversary;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What {@link AdversaryHttp1Server} does with one request, as steps run in order on the
 * connection's thread once the request head arrived. The request body is not read unless a
 * {@link #readBody()} step says so (or the script ends with the connection still open, when the
 * rest of the body is read before the next request), so a script can answer before reading it:
 *
 * <pre>{@code
 * Http1Script.reply().response(200, "ok")                                   // keep-alive answer
 * Http1Script.reply().send("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 100\r\n\r\n0123456789")
 * Http1Script.reply().readBody().close()                                    // swallow the request, FIN
 * Http1Script.reply().readBody().response(200, "ok", "Connection: keep-alive").close()
 * }</pre>
 *
 * <p>Immutable and thread-safe; a script may be shared.
 */
public final class Http1Script {
    private static final Http1Script EMPTY = new Http1Script(List.of());
    private final List<Http1Step> steps;

    private Http1Script(List<Http1Step> steps) {
        this.steps = steps;
    }

    /** An empty script: no answer; the connection stays open. Append steps to it. */
    public static Http1Script reply() {
        return EMPTY;
    }

    /** The script a polite server runs: read the body, answer 200 "ok" with a Content-Length, keep the connection. */
    public static Http1Script ok() {
        return reply().readBody().response(200, "ok");
    }

    List<Http1Step> steps() {
        return steps;
    }

    private Http1Script then(String name, Http1Step.Action action) {
        List<Http1Step> next = new ArrayList<>(steps.size() + 1);
        next.addAll(steps);
        next.add(new Http1Step(name, action));
        return new Http1Script(Collections.unmodifiableList(next));
    }

    /** Raw bytes, as they are (ISO-8859-1 for the text form). */
    public Http1Script send(String raw) {
        return send(raw.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Raw bytes, as they are (copied). */
    public Http1Script send(byte[] raw) {
        byte[] copy = raw.clone();
        return then("send " + copy.length + " bytes", x -> x.write(copy));
    }

    /**
     * A complete response: status line, {@code headerLines} (e.g. {@code "Connection: close"}),
     * a Content-Length for {@code body}, then the body.
     */
    public Http1Script response(int status, String body, String... headerLines) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        StringBuilder head = new StringBuilder("HTTP/1.1 ").append(status).append(' ').append(reason(status))
                .append("\r\n");
        for (String h : headerLines) {
            head.append(h).append("\r\n");
        }
        head.append("Content-Length: ").append(b.length).append("\r\n\r\n");
        byte[] h = head.toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = new byte[h.length + b.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(b, 0, all, h.length, b.length);
        return then("response " + status + " (" + b.length + " body bytes)", x -> x.write(all));
    }

    /** Reads the rest of the request body now (by Content-Length or chunked framing). */
    public Http1Script readBody() {
        return then("read body", Http1Exchange::readBody);
    }

    /** Waits {@code millis} before the next step. */
    public Http1Script pause(long millis) {
        if (millis < 0) {
            throw new IllegalArgumentException("pause must not be negative: " + millis);
        }
        return then("pause " + millis + " ms", x -> Thread.sleep(millis));
    }

    /**
     * Half-close: FIN on the server's side only. The server keeps reading: requests the client
     * still sends on this connection are recorded ({@link Http1RequestRecord#afterServerClosed()})
     * but not answered; the socket closes at the client's FIN.
     */
    public Http1Script closeOutput() {
        return then("close output", Http1Exchange::closeOutput);
    }

    /**
     * Closes the connection (FIN). Request bytes not read yet make the kernel send an RST instead:
     * add {@link #readBody()} before it for a clean FIN.
     */
    public Http1Script close() {
        return then("close", x -> x.close(false));
    }

    /** Closes the connection with a TCP reset (SO_LINGER 0). */
    public Http1Script reset() {
        return then("reset", x -> x.close(true));
    }

    /** This script followed by {@code other}'s steps. */
    public Http1Script then(Http1Script other) {
        List<Http1Step> next = new ArrayList<>(steps);
        next.addAll(other.steps);
        return new Http1Script(Collections.unmodifiableList(next));
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 204 -> "No Content";
            case 400 -> "Bad Request";
            case 413 -> "Content Too Large";
            case 429 -> "Too Many Requests";
            case 500 -> "Internal Server Error";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            default -> "Status";
        };
    }

    @Override
    public String toString() {
        return steps.toString();
    }
}

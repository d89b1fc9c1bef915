package io.sluice.testkit.adversary;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Reads HTTP/1.1 requests off a blocking stream: the head up to its empty line, then the body
 * by its framing (Content-Length or chunked), into a {@link Http1RequestRecord}. Lenient: it
 * parses what a client sends, it does not police it.
 *
 * <p>Not thread-safe; owned by one connection's thread.
 */
final class Http1RequestReader {
    private static final int MAX_HEAD_BYTES = 256 * 1024;
    private final InputStream in;

    Http1RequestReader(InputStream in) {
        this.in = in;
    }

    /** The next request head (without its final CRLF CRLF), or null at a clean EOF before any byte. */
    String readHead() throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int state = 0;
        for (int b; (b = in.read()) != -1; ) {
            if (head.size() == 0 && state == 0 && (b == '\r' || b == '\n')) {
                continue; // stray CRLF between requests (RFC 9112 §2.2)
            }
            head.write(b);
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
            if (state == 4) {
                String s = head.toString(StandardCharsets.ISO_8859_1);
                return s.substring(0, s.length() - 4);
            }
            if (head.size() > MAX_HEAD_BYTES) {
                throw new IOException("request head over " + MAX_HEAD_BYTES + " bytes");
            }
        }
        if (head.size() == 0) {
            return null;
        }
        throw new EOFException("EOF inside a request head");
    }

    /** Reads the rest of {@code request}'s body into it; no-op when it is complete already. */
    void readBody(Http1RequestRecord request) throws IOException {
        if (request.bodyComplete()) {
            return;
        }
        String te = request.header("transfer-encoding");
        if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
            readChunked(request);
        } else {
            String cl = request.header("content-length");
            long remaining = cl == null ? 0 : Long.parseLong(cl.trim()) - request.bodyBytes();
            copy(request, remaining);
        }
        request.markBodyComplete();
    }

    private void readChunked(Http1RequestRecord request) throws IOException {
        for (;;) {
            String sizeLine = readLine();
            int semicolon = sizeLine.indexOf(';');
            long size = Long.parseLong((semicolon >= 0 ? sizeLine.substring(0, semicolon) : sizeLine).trim(), 16);
            if (size == 0) {
                while (!readLine().isEmpty()) {
                    // trailer fields: dropped
                }
                return;
            }
            copy(request, size);
            readLine(); // the CRLF after the chunk
        }
    }

    private void copy(Http1RequestRecord request, long n) throws IOException {
        byte[] buf = new byte[16 * 1024];
        while (n > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, n));
            if (r < 0) {
                throw new EOFException("EOF with " + n + " body bytes missing");
            }
            request.addBody(buf, 0, r);
            n -= r;
        }
    }

    private String readLine() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int b; (b = in.read()) != -1; ) {
            if (b == '\n') {
                int len = sb.length();
                return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
            }
            sb.append((char) b);
        }
        throw new EOFException("EOF inside chunked framing");
    }
}

package io.sluice.spring.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * A tiny HTTP/1.1 server on loopback whose pace the test sets, to prove that bytes move as they are produced:
 * <ul>
 * <li>{@code GET /sse?n=N}: a server-sent-event stream of N events {@code event-1 … event-N}, each written only after
 * the test calls {@link #releaseEvent()} (event 1 too), then the end of the body.</li>
 * <li>{@code POST /upload}: reads a chunked body; the first chunk opens {@link #firstChunk} before the rest arrives;
 * answers with the whole body.</li>
 * </ul>
 * Every wait is bounded (10 s), so a client that buffers fails the test instead of hanging it.
 */
final class LockstepServer implements AutoCloseable {

    private final ServerSocket server;
    private final Semaphore events = new Semaphore(0);
    final CountDownLatch firstChunk = new CountDownLatch(1);
    private final CopyOnWriteArrayList<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    LockstepServer() throws IOException {
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        acceptor = new Thread(this::acceptLoop, "lockstep-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.getLocalPort() + path);
    }

    /** Lets the stream write its next event. */
    void releaseEvent() {
        events.release();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                sockets.add(s);
                Thread t = new Thread(() -> serve(s), "lockstep-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            while (true) {
                String requestLine = line(in);
                if (requestLine == null || requestLine.isEmpty()) {
                    return;
                }
                Map<String, String> headers = new TreeMap<>();
                for (String h; !(h = line(in)).isEmpty();) {
                    int c = h.indexOf(':');
                    headers.put(h.substring(0, c).trim().toLowerCase(Locale.ROOT), h.substring(c + 1).trim());
                }
                String target = requestLine.split(" ")[1];
                if (target.startsWith("/sse")) {
                    int n = Integer.parseInt(target.substring(target.indexOf("n=") + 2));
                    readBody(in, headers);
                    out.write(("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                            + "transfer-encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    for (int i = 1; i <= n; i++) {
                        if (!events.tryAcquire(10, TimeUnit.SECONDS)) {
                            return; // the test never released: end the connection, failing the client's read
                        }
                        chunk(out, ("data: event-" + i + "\n\n").getBytes(StandardCharsets.UTF_8));
                    }
                    out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } else {
                    byte[] body = readBody(in, headers);
                    out.write(("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: " + body.length
                            + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.write(body);
                    out.flush();
                }
            }
        } catch (IOException | InterruptedException e) {
            // the client went away; nothing to report
        }
    }

    private byte[] readBody(InputStream in, Map<String, String> headers) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            while (true) {
                int size = Integer.parseInt(line(in).split(";")[0].trim(), 16);
                if (size == 0) {
                    line(in);
                    return body.toByteArray();
                }
                body.write(in.readNBytes(size));
                line(in);
                firstChunk.countDown();
            }
        }
        String length = headers.get("content-length");
        if (length != null) {
            body.write(in.readNBytes(Integer.parseInt(length)));
        }
        return body.toByteArray();
    }

    private static void chunk(OutputStream out, byte[] data) throws IOException {
        out.write((Integer.toHexString(data.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(data);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int c; (c = in.read()) != -1;) {
            if (c == '\n') {
                int len = b.length();
                return len > 0 && b.charAt(len - 1) == '\r' ? b.substring(0, len - 1) : b.toString();
            }
            b.append((char) c);
        }
        return b.length() == 0 ? null : b.toString();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}

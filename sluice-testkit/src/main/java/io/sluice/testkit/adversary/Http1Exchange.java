package io.sluice.testkit.adversary;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;

/**
 * One request being answered by its {@link Http1Script}: what the steps may do to the request
 * and the connection. Remembers whether the server closed its side, so the connection loop knows
 * whether to read on, and how.
 *
 * <p>Confined to the connection's thread.
 */
final class Http1Exchange {
    private final Socket socket;
    private final OutputStream out;
    private final Http1RequestReader reader;
    private final Http1RequestRecord request;
    private boolean outputClosed;
    private boolean closed;

    Http1Exchange(Socket socket, OutputStream out, Http1RequestReader reader, Http1RequestRecord request) {
        this.socket = socket;
        this.out = out;
        this.reader = reader;
        this.request = request;
    }

    void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    void readBody() throws IOException {
        reader.readBody(request);
    }

    void closeOutput() throws IOException {
        out.flush();
        socket.shutdownOutput();
        outputClosed = true;
    }

    void close(boolean reset) throws IOException {
        if (reset) {
            socket.setSoLinger(true, 0);
        } else {
            out.flush();
        }
        socket.close();
        closed = true;
    }

    boolean outputClosed() {
        return outputClosed;
    }

    boolean closed() {
        return closed;
    }
}

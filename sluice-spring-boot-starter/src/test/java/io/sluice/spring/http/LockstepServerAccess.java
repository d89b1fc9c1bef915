package io.sluice.spring.http;

import java.io.IOException;
import java.net.URI;

/** {@link LockstepServer} for tests in other packages. */
public final class LockstepServerAccess implements AutoCloseable {

    private final LockstepServer server;

    public LockstepServerAccess() throws IOException {
        server = new LockstepServer();
    }

    public URI uri(String path) {
        return server.uri(path);
    }

    public void releaseEvent() {
        server.releaseEvent();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}

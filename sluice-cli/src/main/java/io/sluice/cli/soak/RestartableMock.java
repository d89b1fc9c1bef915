package io.sluice.cli.soak;

import io.sluice.testkit.MockBehavior;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.net.URI;
import java.time.Duration;

/**
 * The soak's in-process mock provider, which a fault may restart: the URIs and certificate stay
 * the same across restarts (same ports), only the {@link MockProvider} instance changes.
 * Thread-safe: server-wide actions and restarts are serialised on this object.
 */
final class RestartableMock implements AutoCloseable {
    /** How long the ports stay closed during a restart: long enough for clients to see refusals. */
    static final Duration RESTART_DOWNTIME = Duration.ofMillis(150);

    private MockProvider current;
    private final URI plain;
    private final URI tls;
    private final URI wss;
    private final String certificatePem;

    RestartableMock() {
        current = MockProvider.start(MockOptions.builder()
                .behavior(MockBehavior.builder().tokens(16).tokenDelayMs(1).build())
                // A drain that outlives the soak's short streams but ends well inside a run.
                .goAwayDrainTimeout(Duration.ofSeconds(5))
                .build());
        plain = current.httpUri();
        tls = current.httpsUri();
        wss = current.wssUri();
        certificatePem = current.certificatePem();
    }

    URI plainUri() {
        return plain;
    }

    URI tlsUri() {
        return tls;
    }

    URI wssUri() {
        return wss;
    }

    String certificatePem() {
        return certificatePem;
    }

    /** Applies a server-wide fault. */
    synchronized void apply(Fault fault) {
        switch (fault) {
            case KILL -> current.killConnections();
            case GOAWAY -> current.goAwayAll();
            case GOAWAY_ABRUPT -> current.goAwayAll(true);
            case RESTART -> current = current.restart(RESTART_DOWNTIME);
            default -> throw new IllegalArgumentException(fault + " is a request knob, not a server-wide fault");
        }
    }

    @Override
    public synchronized void close() {
        current.close();
    }
}

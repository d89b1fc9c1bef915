package io.sluice.bench.compare;

import java.util.List;

/** The clients the comparison knows, by the names used on the command line. */
final class Peers {
    static final List<String> ALL = List.of("sluice", "jdk", "okhttp", "apache", "reactor-netty", "jetty");
    /** Diagnostic variants, run only when named in {@code --clients}. */
    static final List<String> EXTRA = List.of("sluice-tcnative-preloaded", "sluice-inline-callbacks", "sluice-spread",
            "sluice-target", "sluice-spread-target");
    /** The target of streams per connection the "-target" variants use: eight connections for 256 in flight. */
    static final int TARGET_STREAMS = 32;

    private Peers() {
    }

    static Peer create(String name, PeerConfig cfg) throws Exception {
        return switch (name) {
            case "sluice" -> new SluicePeer(cfg);
            case "sluice-tcnative-preloaded" -> new SluicePeer(cfg, true);
            case "sluice-inline-callbacks" -> new SluicePeer(cfg, false, Runnable::run);
            case "sluice-spread" -> new SluicePeer(cfg, b -> b.streamPlacement(io.sluice.pool.StreamPlacement.SPREAD));
            case "sluice-target" -> new SluicePeer(cfg, b -> b.targetStreamsPerConnection(TARGET_STREAMS));
            case "sluice-spread-target" -> new SluicePeer(cfg, b -> b.streamPlacement(io.sluice.pool.StreamPlacement.SPREAD)
                    .targetStreamsPerConnection(TARGET_STREAMS));
            case "jdk" -> new JdkPeer(cfg);
            case "okhttp" -> new OkHttpPeer(cfg);
            case "apache" -> new ApachePeer(cfg);
            case "reactor-netty" -> new ReactorNettyPeer(cfg);
            case "jetty" -> new JettyPeer(cfg);
            default -> throw new IllegalArgumentException("unknown client '" + name + "'; known: " + ALL);
        };
    }
}

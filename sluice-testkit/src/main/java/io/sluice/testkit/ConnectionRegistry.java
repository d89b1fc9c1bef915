package io.sluice.testkit;

import io.netty.channel.Channel;
import io.netty.handler.codec.http2.DefaultHttp2SettingsFrame;
import io.netty.handler.codec.http2.Http2Settings;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The set of open connections, so server-wide fault actions can reach them. Thread-safe (a
 * concurrent set); each action runs on the connection's own event loop.
 */
final class ConnectionRegistry {
    private final Set<Channel> channels = ConcurrentHashMap.newKeySet();

    void add(Channel ch) {
        channels.add(ch);
        ch.closeFuture().addListener(f -> channels.remove(ch));
    }

    void killAll() {
        for (Channel ch : channels) {
            ch.eventLoop().execute(() -> ConnectionState.of(ch).closeAbruptly());
        }
    }

    /** GOAWAY on every HTTP/2 connection; graceful (drain open streams) unless {@code abrupt}. */
    void goAwayAll(boolean abrupt) {
        for (Channel ch : channels) {
            ch.eventLoop().execute(() -> {
                ConnectionState state = ch.attr(ConnectionState.KEY).get();
                if (state != null && state.isHttp2()) {
                    if (abrupt) {
                        state.goAwayAbruptly();
                    } else {
                        state.goAway();
                    }
                }
            });
        }
    }

    void sendSettings(Http2Settings settings) {
        for (Channel ch : channels) {
            ch.eventLoop().execute(() -> {
                ConnectionState state = ch.attr(ConnectionState.KEY).get();
                if (state != null && state.isHttp2() && ch.isActive()) {
                    ch.writeAndFlush(new DefaultHttp2SettingsFrame(settings));
                }
            });
        }
    }

    void closeAll() {
        for (Channel ch : channels) {
            ch.close();
        }
    }
}

package io.sluice.http.spi;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.SocketOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client's one event loop group and socket settings: native epoll when it loads,
 * NIO otherwise; TCP_NODELAY, SO_KEEPALIVE with a 60 s keepalive idle time (so a connection
 * whose peer vanished is noticed by the kernel within minutes, well inside NAT and load-balancer
 * idle limits), and a connect timeout for bootstraps used directly. Connections opened through
 * the {@link Dialer} (all of the HTTP client's and the WebSocket pool's) do not use that timeout:
 * the dialer turns it off, because their connector's one timer bounds the whole attempt.
 *
 * <p><b>Thread-safety:</b> thread-safe; {@link #bootstrap} returns a fresh, unshared
 * {@link Bootstrap}. <b>Ownership:</b> owns its event loop group; {@link #close} shuts it down.
 */
public final class NettyTransport implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(NettyTransport.class);
    /** Idle seconds before the kernel's first TCP keepalive probe. */
    static final int KEEPALIVE_IDLE_SECONDS = 60;

    /** The I/O mechanisms, best first. */
    public enum Kind { IO_URING, EPOLL, NIO }

    /** System property naming the transport to use ({@code io_uring}, {@code epoll}, {@code nio}); unset: the default. */
    public static final String TRANSPORT_PROPERTY = "sluice.transport";

    private final EventLoopGroup group;
    private final Class<? extends Channel> channelClass;
    private final Kind kind;
    private final boolean epoll;
    private final int connectTimeoutMillis;

    /**
     * @param threads        event loop threads, 0 for Netty's default (twice the cores)
     * @param preferNative   use epoll when it is available
     * @param connectTimeout bound on the TCP connect of a bootstrap used directly; the {@link Dialer}
     *                       overrides it (its caller's timer owns the connect deadline)
     */
    public NettyTransport(int threads, boolean preferNative, Duration connectTimeout) {
        this.kind = choose(preferNative, System.getProperty(TRANSPORT_PROPERTY));
        this.epoll = kind == Kind.EPOLL;
        IoHandlerFactory factory = switch (kind) {
            case IO_URING -> io.netty.channel.uring.IoUringIoHandler.newFactory();
            case EPOLL -> EpollIoHandler.newFactory();
            case NIO -> NioIoHandler.newFactory();
        };
        this.group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("sluice-http", true), factory);
        this.channelClass = switch (kind) {
            case IO_URING -> io.netty.channel.uring.IoUringSocketChannel.class;
            case EPOLL -> EpollSocketChannel.class;
            case NIO -> NioSocketChannel.class;
        };
        this.connectTimeoutMillis = (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis());
        LOG.debug("HTTP transport on {}", kind);
    }

    /**
     * The transport: the one {@code requested} names when it is available here, otherwise epoll when
     * native transports are preferred and it loads, otherwise NIO.
     */
    static Kind choose(boolean preferNative, String requested) {
        if (requested != null) {
            switch (requested.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "io_uring", "iouring", "io-uring" -> {
                    if (io.netty.channel.uring.IoUring.isAvailable()) {
                        return Kind.IO_URING;
                    }
                    LOG.debug("io_uring requested but unavailable: {}", String.valueOf(io.netty.channel.uring.IoUring.unavailabilityCause()));
                }
                case "nio" -> {
                    return Kind.NIO;
                }
                default -> { }
            }
        }
        return preferNative && Epoll.isAvailable() ? Kind.EPOLL : Kind.NIO;
    }

    /** The transport in use. */
    public Kind kind() {
        return kind;
    }

    /** Whether native epoll is used. */
    public boolean isNative() {
        return kind != Kind.NIO;
    }

    public EventLoopGroup group() {
        return group;
    }

    /** A bootstrap with the group, channel type and socket options set; the caller adds the handler. */
    public Bootstrap bootstrap() {
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(channelClass)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis);
        if (epoll) {
            b.option(EpollChannelOption.TCP_KEEPIDLE, KEEPALIVE_IDLE_SECONDS);
        } else if (kind == Kind.IO_URING) {
            b.option(io.netty.channel.uring.IoUringChannelOption.TCP_KEEPIDLE, KEEPALIVE_IDLE_SECONDS);
        } else {
            SocketOption<Integer> idle = NioKeepIdle.OPTION;
            if (idle != null) {
                b.option(NioChannelOption.of(idle), KEEPALIVE_IDLE_SECONDS);
            }
        }
        return b;
    }

    /** Shuts the event loops down, waiting briefly for in-flight closes to flush. */
    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** jdk.net's TCP_KEEPIDLE when this JDK and platform support it, looked up once. */
    private static final class NioKeepIdle {
        static final SocketOption<Integer> OPTION = lookup();

        private static SocketOption<Integer> lookup() {
            try {
                SocketOption<Integer> o = jdk.net.ExtendedSocketOptions.TCP_KEEPIDLE;
                try (java.nio.channels.SocketChannel probe = java.nio.channels.SocketChannel.open()) {
                    return probe.supportedOptions().contains(o) ? o : null;
                }
            } catch (Throwable t) { // NoClassDefFoundError without jdk.net, IOException on open
                return null;
            }
        }
    }
}

package io.sluice.testkit;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The native transport choice: epoll when available (Linux), NIO otherwise. Immutable and
 * thread-safe; the groups it creates are owned by the caller.
 */
record ServerTransport(String name, IoHandlerFactory ioHandlerFactory, Class<? extends ServerChannel> channelClass) {

    static ServerTransport detect() {
        if (Epoll.isAvailable()) {
            return new ServerTransport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class);
        }
        return new ServerTransport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class);
    }

    EventLoopGroup newGroup(int threads, String poolName) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(poolName, true), ioHandlerFactory);
    }
}

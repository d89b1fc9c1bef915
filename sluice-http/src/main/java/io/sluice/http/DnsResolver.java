package io.sluice.http;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DefaultDnsCache;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An {@link AddressResolver} that asks DNS servers itself (Netty's {@code netty-resolver-dns}) and
 * caches each answer for the TTL the server gave it, instead of the JVM's fixed
 * {@code networkaddress.cache.ttl}. A pool resolves its host for every new connection, so with this
 * resolver it moves to a provider's new addresses as soon as their old records expire and old
 * connections retire, and asks no more often than the records allow.
 *
 * <p>Without {@link Builder#nameServers} it uses the system's servers ({@code /etc/resolv.conf} on
 * Linux, with its search domains and {@code ndots}); the hosts file is consulted first, as the JVM
 * does. Every address of both families is returned, the JVM's preferred family first
 * ({@code java.net.preferIPv6Addresses}); the client races them with Happy Eyeballs.
 *
 * <p><b>Thread-safety:</b> thread-safe. <b>Ownership:</b> owns one event-loop thread and its UDP
 * socket; the caller closes it ({@link #close()}) after the clients that use it. A client does not
 * close the resolver it was given, so one resolver (and its cache) may serve many clients.
 */
public final class DnsResolver implements AddressResolver, AutoCloseable {

    private final EventLoopGroup loop;
    private final DnsNameResolver resolver;
    private final Duration queryTimeout;
    /** Look-ups waiting for an answer, failed by {@link #close()}. */
    private final java.util.Set<io.netty.util.concurrent.Future<List<InetAddress>>> inFlight =
            java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private DnsResolver(Builder b) {
        this.queryTimeout = b.queryTimeout;
        this.loop = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("sluice-dns", true),
                NioIoHandler.newFactory());
        boolean preferV6 = Boolean.getBoolean("java.net.preferIPv6Addresses");
        DnsNameResolverBuilder nb = new DnsNameResolverBuilder(loop.next())
                .datagramChannelType(NioDatagramChannel.class)
                .socketChannelType(NioSocketChannel.class) // truncated answers are asked again over TCP
                .queryTimeoutMillis(b.queryTimeout.toMillis())
                .resolvedAddressTypes(preferV6 ? ResolvedAddressTypes.IPV6_PREFERRED : ResolvedAddressTypes.IPV4_PREFERRED)
                .resolveCache(new DefaultDnsCache((int) b.minTtl.toSeconds(), (int) Math.min(Integer.MAX_VALUE,
                        b.maxTtl.toSeconds()), (int) b.negativeTtl.toSeconds()));
        if (b.nameServers != null) {
            nb.nameServerProvider(new SequentialDnsServerAddressStreamProvider(b.nameServers))
                    .searchDomains(List.of()); // the names given are the names asked
        } else {
            nb.nameServerProvider(DnsServerAddressStreamProviders.platformDefault());
        }
        this.resolver = nb.build();
    }

    /** A resolver with the system's DNS servers and the records' own TTLs. */
    public static DnsResolver system() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public List<InetAddress> resolve(String host) throws UnknownHostException {
        if (closed) {
            throw new UnknownHostException(host + ": the resolver is closed");
        }
        io.netty.util.concurrent.Future<List<InetAddress>> lookUp = resolver.resolveAll(host);
        inFlight.add(lookUp);
        if (closed) {
            lookUp.cancel(false); // closed while we registered: close() may have missed it
        }
        try {
            // Netty's query timeout bounds each server's answer; the wait here is only a backstop.
            List<InetAddress> found = lookUp.get(queryTimeout.toMillis() * 4 + 1000, TimeUnit.MILLISECONDS);
            if (found.isEmpty()) {
                throw new UnknownHostException(host + ": no addresses");
            }
            return found;
        } catch (ExecutionException e) {
            UnknownHostException u = new UnknownHostException(host + ": " + e.getCause().getMessage());
            u.initCause(e.getCause());
            throw u;
        } catch (TimeoutException e) {
            throw new UnknownHostException(host + ": no DNS answer within " + queryTimeout);
        } catch (java.util.concurrent.CancellationException e) {
            throw new UnknownHostException(host + ": the resolver was closed during the look-up");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnknownHostException(host + ": interrupted while resolving");
        } finally {
            inFlight.remove(lookUp);
        }
    }

    /**
     * Closes the socket and stops the resolver's thread; look-ups in flight and after this fail at once with
     * {@link UnknownHostException} (their query timers stop with the thread, so nothing else would end them).
     * Idempotent.
     */
    @Override
    public void close() {
        closed = true;
        for (io.netty.util.concurrent.Future<List<InetAddress>> f : inFlight) {
            f.cancel(false);
        }
        resolver.close();
        loop.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
    }

    /** Settings of a {@link DnsResolver}. <b>Thread-safety:</b> not thread-safe; build once. */
    public static final class Builder {
        private List<InetSocketAddress> nameServers;
        private Duration minTtl = Duration.ZERO;
        private Duration maxTtl = Duration.ofSeconds(Integer.MAX_VALUE);
        private Duration negativeTtl = Duration.ZERO;
        private Duration queryTimeout = Duration.ofSeconds(5);

        private Builder() {
        }

        /** Asks these servers, in order (the next when one does not answer), instead of the system's. */
        public Builder nameServers(InetSocketAddress... servers) {
            if (servers.length == 0) {
                throw new IllegalArgumentException("at least one name server");
            }
            this.nameServers = List.of(servers);
            return this;
        }

        /**
         * Bounds the time an answer is kept: at least {@code min} (records with shorter TTLs are kept that
         * long, to spare the DNS servers), at most {@code max} (records with longer TTLs are asked again
         * sooner). Defaults: the records' own TTL.
         */
        public Builder ttl(Duration min, Duration max) {
            if (min.isNegative() || max.compareTo(min) < 0) {
                throw new IllegalArgumentException("need 0 <= min <= max: " + min + ", " + max);
            }
            this.minTtl = min;
            this.maxTtl = max;
            return this;
        }

        /** How long a name that does not exist is remembered as such (default 0: asked again every time). */
        public Builder negativeTtl(Duration ttl) {
            if (ttl.isNegative()) {
                throw new IllegalArgumentException("negative TTL: " + ttl);
            }
            this.negativeTtl = ttl;
            return this;
        }

        /** How long one server has to answer one question (default 5 s). */
        public Builder queryTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("query timeout must be positive: " + timeout);
            }
            this.queryTimeout = timeout;
            return this;
        }

        public DnsResolver build() {
            Objects.requireNonNull(queryTimeout);
            return new DnsResolver(this);
        }
    }
}

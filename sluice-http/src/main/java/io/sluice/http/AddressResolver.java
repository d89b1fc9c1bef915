package io.sluice.http;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Turns a host name into the addresses a client may connect to, in the order they should be
 * tried. The client tries them with Happy Eyeballs (RFC 8305): the families are interleaved,
 * the next address starts 250 ms after the previous one if that has not connected (at once if
 * it failed), and the first TCP connection wins; so a dead address costs a quarter second, not
 * the connect timeout. Names are resolved for every new connection, so a pool follows DNS
 * changes as connections retire (the JVM's own cache, {@code networkaddress.cache.ttl}, applies).
 *
 * <p>The default ({@link #system()}) asks the JVM ({@link InetAddress#getAllByName}) on the
 * client's DNS threads. Replace it for a custom DNS, or for tests ({@link #staticHosts}).
 *
 * <p><b>Thread-safety:</b> implementations must be thread-safe; {@link #resolve} may block (it
 * runs on the client's DNS threads, never on an event loop).
 */
@FunctionalInterface
public interface AddressResolver {

    /**
     * The host's addresses, best first; never empty.
     *
     * @throws UnknownHostException when the name does not resolve
     */
    List<InetAddress> resolve(String host) throws UnknownHostException;

    /** The JVM's resolver: every address {@link InetAddress#getAllByName} returns, in its order. */
    static AddressResolver system() {
        return host -> List.of(InetAddress.getAllByName(host));
    }

    /**
     * Fixed answers for the names in {@code hosts} (case-insensitive), {@code fallback} for the
     * rest: a test's or a service mesh's static overrides.
     */
    static AddressResolver staticHosts(Map<String, List<InetAddress>> hosts, AddressResolver fallback) {
        Objects.requireNonNull(fallback, "fallback");
        Map<String, List<InetAddress>> copy = new java.util.HashMap<>();
        hosts.forEach((k, v) -> {
            if (v.isEmpty()) {
                throw new IllegalArgumentException("no addresses for " + k);
            }
            copy.put(k.toLowerCase(Locale.ROOT), List.copyOf(v));
        });
        return host -> {
            List<InetAddress> fixed = copy.get(host.toLowerCase(Locale.ROOT));
            return fixed != null ? fixed : fallback.resolve(host);
        };
    }
}

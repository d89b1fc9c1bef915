package io.sluice.http;

import java.net.URI;
import java.util.Locale;
import java.util.Objects;

/**
 * Where connections go: scheme, host and port. Every route has its own pool, so
 * {@code http://} and {@code https://} to the same host are separate pools: a cleartext
 * connection can never carry a request meant for TLS.
 *
 * <p><b>Thread-safety:</b> immutable.
 *
 * @param scheme {@code http} or {@code https}, lower case
 * @param host   host name or IP literal, lower case, without brackets for IPv6
 * @param port   port, the scheme's default when the URI gives none
 */
public record Route(String scheme, String host, int port) {

    /** Normalises and validates the parts. */
    public Route {
        Objects.requireNonNull(scheme, "scheme");
        Objects.requireNonNull(host, "host");
        scheme = scheme.toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new InvalidRequestException("unsupported scheme '" + scheme + "': only http and https are supported");
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        host = host.toLowerCase(Locale.ROOT);
        if (host.isEmpty()) {
            throw new InvalidRequestException("the URI has no host");
        }
        if (port < 1 || port > 65_535) {
            throw new InvalidRequestException("port must be within 1..65535, was " + port);
        }
    }

    /** The route of an absolute {@code http} or {@code https} URI. */
    public static Route of(URI uri) {
        String scheme = uri.getScheme();
        if (scheme == null || uri.getHost() == null) {
            throw new InvalidRequestException("the URI must be absolute with a host: " + uri.getScheme() + "://"
                    + uri.getRawAuthority());
        }
        int port = uri.getPort();
        if (port == -1) {
            port = scheme.equalsIgnoreCase("https") ? 443 : 80;
        }
        return new Route(scheme, uri.getHost(), port);
    }

    /** Whether connections on this route use TLS. */
    public boolean secure() {
        return scheme.equals("https");
    }

    /** The authority as sent in {@code Host} / {@code :authority}: the port is left out when it is the default. */
    public String authority() {
        String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        boolean defaultPort = secure() ? port == 443 : port == 80;
        return defaultPort ? h : h + ":" + port;
    }

    /** {@code scheme://host:port}, the form used in errors and metric labels. */
    @Override
    public String toString() {
        String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        return scheme + "://" + h + ":" + port;
    }
}

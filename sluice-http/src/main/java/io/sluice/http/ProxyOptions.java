package io.sluice.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A forward proxy the client reaches its routes through: HTTP {@code CONNECT} (TLS and HTTP/2 run
 * end to end through the tunnel, ALPN included) or SOCKS5, with optional credentials (Basic for
 * HTTP, user/password for SOCKS5) and a list of hosts reached directly.
 *
 * <p>No-proxy entries: a host name ({@code api.internal}, matched exactly, case-insensitive), a
 * domain suffix ({@code .internal} or {@code *.internal}: the domain and its sub-domains), an IP
 * literal, or {@code *} (everything direct).
 *
 * <p><b>Thread-safety:</b> immutable. The password is held to answer the proxy; {@link #toString()}
 * never shows it.
 *
 * @param type     HTTP CONNECT or SOCKS5
 * @param host     the proxy's host
 * @param port     the proxy's port
 * @param username credentials for the proxy, or null
 * @param password the password, or null
 * @param noProxy  hosts reached without the proxy
 */
public record ProxyOptions(Type type, String host, int port, String username, String password, List<String> noProxy) {

    /** The proxy protocol. */
    public enum Type {
        /** An HTTP proxy, asked with {@code CONNECT host:port} for a tunnel. */
        HTTP,
        /** A SOCKS5 proxy (RFC 1928), with user/password authentication (RFC 1929) when credentials are set. */
        SOCKS5
    }

    public ProxyOptions {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(host, "host");
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("proxy port must be 1..65535, was " + port);
        }
        if ((username == null) != (password == null)) {
            throw new IllegalArgumentException("proxy credentials need both a user name and a password");
        }
        noProxy = List.copyOf(noProxy);
    }

    /** An HTTP CONNECT proxy. */
    public static ProxyOptions http(String host, int port) {
        return new ProxyOptions(Type.HTTP, host, port, null, null, List.of());
    }

    /** A SOCKS5 proxy. */
    public static ProxyOptions socks5(String host, int port) {
        return new ProxyOptions(Type.SOCKS5, host, port, null, null, List.of());
    }

    /** This proxy with credentials. */
    public ProxyOptions withCredentials(String user, String pass) {
        return new ProxyOptions(type, host, port, Objects.requireNonNull(user, "user"), Objects.requireNonNull(pass, "pass"),
                noProxy);
    }

    /** This proxy with these hosts reached directly (see the class comment for the forms). */
    public ProxyOptions withNoProxy(List<String> hosts) {
        return new ProxyOptions(type, host, port, username, password, hosts);
    }

    /**
     * The JVM's proxy properties, when set: {@code https.proxyHost}/{@code https.proxyPort} (443 when
     * the port is missing), else {@code socksProxyHost}/{@code socksProxyPort} (1080), with
     * {@code http.nonProxyHosts} ({@code |}-separated, {@code *} wildcards); null when none is set.
     */
    public static ProxyOptions fromSystemProperties() {
        return fromSystemProperties(System.getProperties());
    }

    static ProxyOptions fromSystemProperties(java.util.Properties p) {
        List<String> none = new ArrayList<>();
        String non = p.getProperty("http.nonProxyHosts");
        if (non != null) {
            for (String h : non.split("\\|")) {
                if (!h.isBlank()) {
                    none.add(h.trim());
                }
            }
        }
        String host = p.getProperty("https.proxyHost");
        if (host != null && !host.isBlank()) {
            return new ProxyOptions(Type.HTTP, host.trim(), Integer.parseInt(p.getProperty("https.proxyPort", "443").trim()),
                    null, null, none);
        }
        String socks = p.getProperty("socksProxyHost");
        if (socks != null && !socks.isBlank()) {
            return new ProxyOptions(Type.SOCKS5, socks.trim(), Integer.parseInt(p.getProperty("socksProxyPort", "1080").trim()),
                    null, null, none);
        }
        return null;
    }

    /**
     * {@code HTTPS_PROXY} (or {@code https_proxy}), as curl reads it: {@code http://[user:pass@]host:port}
     * or {@code socks5://…}; {@code NO_PROXY} (comma-separated). Null when no proxy is set.
     */
    public static ProxyOptions fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /** {@link #fromEnvironment()} over the given variables (tests pass their own). */
    public static ProxyOptions fromEnvironment(Map<String, String> env) {
        String value = first(env, "HTTPS_PROXY", "https_proxy");
        if (value == null || value.isBlank()) {
            return null;
        }
        java.net.URI uri = java.net.URI.create(value.contains("://") ? value.trim() : "http://" + value.trim());
        Type type = switch (uri.getScheme().toLowerCase(Locale.ROOT)) {
            case "http", "https" -> Type.HTTP;
            case "socks5", "socks5h", "socks" -> Type.SOCKS5;
            default -> throw new IllegalArgumentException("HTTPS_PROXY: unsupported scheme " + uri.getScheme());
        };
        int port = uri.getPort() > 0 ? uri.getPort() : type == Type.SOCKS5 ? 1080 : 80;
        String user = null;
        String pass = null;
        if (uri.getRawUserInfo() != null) {
            String[] parts = uri.getRawUserInfo().split(":", 2);
            user = java.net.URLDecoder.decode(parts[0], java.nio.charset.StandardCharsets.UTF_8);
            pass = parts.length > 1 ? java.net.URLDecoder.decode(parts[1], java.nio.charset.StandardCharsets.UTF_8) : "";
        }
        List<String> none = new ArrayList<>();
        String no = first(env, "NO_PROXY", "no_proxy");
        if (no != null) {
            for (String h : no.split(",")) {
                if (!h.isBlank()) {
                    none.add(h.trim());
                }
            }
        }
        return new ProxyOptions(type, uri.getHost(), port, user, pass, none);
    }

    private static String first(Map<String, String> env, String... names) {
        for (String n : names) {
            String v = env.get(n);
            if (v != null) {
                return v;
            }
        }
        return null;
    }

    /** Whether {@code targetHost} is reached directly (it matches a no-proxy entry). */
    public boolean bypasses(String targetHost) {
        String h = targetHost.toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        for (String entry : noProxy) {
            String e = entry.toLowerCase(Locale.ROOT).trim();
            if (e.equals("*")) {
                return true;
            }
            if (e.startsWith("*.")) {
                e = e.substring(1);
            }
            if (e.startsWith(".")) {
                if (h.endsWith(e) || h.equals(e.substring(1))) {
                    return true;
                }
            } else if (h.equals(e)) {
                return true;
            }
        }
        return false;
    }

    /** Type, address, whether credentials are set, the no-proxy list; never the password. */
    @Override
    public String toString() {
        return "ProxyOptions[" + type + " " + host + ":" + port + (username != null ? ", user " + username : "")
                + (noProxy.isEmpty() ? "" : ", noProxy " + noProxy) + "]";
    }
}

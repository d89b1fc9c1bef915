package io.sluice.http.spi;

import io.sluice.http.InvalidRequestException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Checks a request before anything is sent, so that a malformed one fails fast with an
 * {@link InvalidRequestException} instead of corrupting a pooled connection, or smuggling a second request through a
 * CR/LF in a header.
 *
 * <p>Messages name the problem, the header and the offending character's index, never a header value (it may be a
 * key) and never an invalid header name (a swapped name and value would put the key there); URIs appear only through
 * {@link Redaction#redactUri}.
 *
 * <p>Also here: the HTTP/2 connection-specific header rules (RFC 9113 §8.2.2), since stripping them is part of
 * making a request valid for that protocol.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
public final class RequestValidator {

    /**
     * Headers that HTTP/2 forbids because they describe an HTTP/1.1 connection (RFC 9113 §8.2.2): a request carrying
     * one is malformed. {@code te} is also restricted there, to the single value {@code trailers}.
     */
    public static final Set<String> H2_CONNECTION_SPECIFIC_HEADERS =
            Set.of("connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade");

    private static final int MAX_PORT = 65_535;
    private static final String[] STANDARD_METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"};
    /** RFC 9110 tchar, indexed by ASCII code. */
    private static final boolean[] TCHAR = new boolean[128];

    static {
        for (char c = '0'; c <= '9'; c++) {
            TCHAR[c] = true;
        }
        for (char c = 'a'; c <= 'z'; c++) {
            TCHAR[c] = true;
            TCHAR[Character.toUpperCase(c)] = true;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TCHAR[c] = true;
        }
    }

    private RequestValidator() {
    }

    /**
     * Checks the method and returns its canonical spelling: the standard methods are returned upper case whatever
     * case they came in ({@code "post"} becomes {@code "POST"}, since a lower-case standard method is always a
     * slip, and servers would otherwise answer 405 or 501); any other RFC 9110 token is returned unchanged, because
     * extension methods are case-sensitive. CONNECT is refused: it opens a tunnel, which a pooled request/response
     * client does not offer.
     */
    public static String validateMethod(String method) {
        if (method == null || method.isEmpty()) {
            throw new InvalidRequestException("request method is empty");
        }
        int bad = firstNonToken(method);
        if (bad >= 0) {
            throw new InvalidRequestException("request method \"" + printable(method) + "\" has an invalid character ("
                    + describe(method.charAt(bad)) + ") at index " + bad + ": a method must be an RFC 9110 token");
        }
        for (String standard : STANDARD_METHODS) {
            if (standard.equalsIgnoreCase(method)) {
                return standard;
            }
        }
        if (method.equalsIgnoreCase("CONNECT")) {
            throw new InvalidRequestException("CONNECT is not supported: it opens a tunnel, not a request/response "
                    + "exchange over a pooled connection");
        }
        return method;
    }

    /** Checks that a header name is a non-empty RFC 9110 token (which also rules out pseudo-headers like ":path"). */
    public static void validateHeaderName(CharSequence name) {
        if (name == null || name.length() == 0) {
            throw new InvalidRequestException("a header name is empty");
        }
        int bad = firstNonToken(name);
        if (bad >= 0) {
            // The name itself is left out: a caller who swapped name and value would have put a secret here.
            throw new InvalidRequestException("a header name (length " + name.length() + ") has an invalid character ("
                    + describe(name.charAt(bad)) + ") at index " + bad + ": header names must be RFC 9110 tokens");
        }
    }

    /**
     * Checks a header value: horizontal tab, space, visible ASCII and obs-text (U+0080 to U+00FF) only (RFC 9110
     * §5.5). CR, LF and NUL would let the value end the header early or truncate it (request smuggling); the other
     * control characters are refused as well. Characters above U+00FF are refused because HTTP/1.1 and HPACK send
     * one byte per character: they would be silently mangled, so encode them (RFC 8187) instead.
     *
     * @param name the header's name, named in the message (it must be a valid token, else it is left out)
     */
    public static void validateHeaderValue(CharSequence name, CharSequence value) {
        if (value == null) {
            throw new InvalidRequestException("header " + nameForMessage(name) + " has a null value");
        }
        for (int i = 0, n = value.length(); i < n; i++) {
            char c = value.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7F || c > 0xFF) {
                throw new InvalidRequestException("header " + nameForMessage(name) + " has a forbidden character ("
                        + describe(c) + ") at index " + i + " of its value"
                        + (c > 0xFF ? ": only Latin-1 can be sent, encode the value (RFC 8187)"
                                : ": control characters (CR, LF, NUL, ...) are not allowed in header values"));
            }
        }
    }

    /** {@link #validateHeaderName} then {@link #validateHeaderValue}. */
    public static void validateHeader(CharSequence name, CharSequence value) {
        validateHeaderName(name);
        validateHeaderValue(name, value);
    }

    /** Checks every header; fits Netty's {@code HttpHeaders} and {@code Http2Headers} and any list of entries. */
    public static void validateHeaders(
            Iterable<? extends Map.Entry<? extends CharSequence, ? extends CharSequence>> headers) {
        for (Map.Entry<? extends CharSequence, ? extends CharSequence> e : headers) {
            validateHeader(e.getKey(), e.getValue());
        }
    }

    /** Checks every header of a multi-valued map. */
    public static void validateHeaders(
            Map<? extends CharSequence, ? extends Collection<? extends CharSequence>> headers) {
        for (Map.Entry<? extends CharSequence, ? extends Collection<? extends CharSequence>> e : headers.entrySet()) {
            validateHeaderName(e.getKey());
            for (CharSequence value : e.getValue()) {
                validateHeaderValue(e.getKey(), value);
            }
        }
    }

    /**
     * Checks an HTTP request URI: absolute, scheme {@code http} or {@code https}, with a host, no user-info
     * (credentials in a URI end up in logs and proxies; send an Authorization header), no fragment (it is never sent,
     * so one is a sign of a mistake), and a port, when given, within 1 to 65535.
     *
     * @return {@code uri}, for chaining
     */
    public static URI validateHttpUri(URI uri) {
        return validateUri(uri, "http", "https");
    }

    /** The same checks as {@link #validateHttpUri} for a WebSocket URI: scheme {@code ws} or {@code wss}. */
    public static URI validateWebSocketUri(URI uri) {
        return validateUri(uri, "ws", "wss");
    }

    private static URI validateUri(URI uri, String plain, String secure) {
        if (uri == null) {
            throw new InvalidRequestException("request URI is null");
        }
        String scheme = uri.getScheme();
        if (scheme == null) {
            throw new InvalidRequestException("request URI must be absolute (" + plain + ":// or " + secure + "://): "
                    + Redaction.redactUri(uri));
        }
        if (!scheme.equalsIgnoreCase(plain) && !scheme.equalsIgnoreCase(secure)) {
            throw new InvalidRequestException("request URI scheme must be " + plain + " or " + secure + ", was "
                    + printable(scheme) + ": " + Redaction.redactUri(uri));
        }
        if (uri.isOpaque()) {
            throw new InvalidRequestException("request URI must be hierarchical (" + scheme + "://host/...): "
                    + Redaction.redactUri(uri));
        }
        if (uri.getRawUserInfo() != null || (uri.getRawAuthority() != null && uri.getRawAuthority().indexOf('@') >= 0)) {
            throw new InvalidRequestException("request URI must not contain user-info (credentials); send them in an "
                    + "Authorization header instead: " + Redaction.redactUri(uri));
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new InvalidRequestException("request URI has no host, or one java.net.URI cannot parse as a server "
                    + "name (such as a name containing '_'): " + Redaction.redactUri(uri));
        }
        int port = uri.getPort();
        if (port != -1 && (port < 1 || port > MAX_PORT)) {
            throw new InvalidRequestException("request URI port " + port + " is outside 1-" + MAX_PORT + ": "
                    + Redaction.redactUri(uri));
        }
        if (uri.getRawFragment() != null) {
            throw new InvalidRequestException("request URI must not have a fragment (it is never sent to the server): "
                    + Redaction.redactUri(uri));
        }
        return uri;
    }

    /**
     * Whether HTTP/2 forbids this request header (RFC 9113 §8.2.2): the {@link #H2_CONNECTION_SPECIFIC_HEADERS}, and
     * {@code te} with any value other than {@code trailers}. Case-insensitive.
     */
    public static boolean isH2ConnectionSpecific(CharSequence name, CharSequence value) {
        String lower = name.toString().toLowerCase(Locale.ROOT);
        if (H2_CONNECTION_SPECIFIC_HEADERS.contains(lower)) {
            return true;
        }
        return lower.equals("te") && (value == null || !value.toString().trim().equalsIgnoreCase("trailers"));
    }

    /**
     * The names of the headers {@link #stripForH2} would remove, in order, for a debug log: the connection-specific
     * ones and those the {@code Connection} header nominates (RFC 9110 §7.6.1 makes them hop-by-hop too).
     */
    public static List<String> h2ConnectionSpecificNames(
            Iterable<? extends Map.Entry<? extends CharSequence, ? extends CharSequence>> headers) {
        Set<String> nominated = connectionOptions(headers);
        List<String> names = new ArrayList<>();
        for (Map.Entry<? extends CharSequence, ? extends CharSequence> e : headers) {
            if (dropForH2(e, nominated)) {
                names.add(e.getKey().toString());
            }
        }
        return names;
    }

    /**
     * The headers without those HTTP/2 forbids ({@link #h2ConnectionSpecificNames}), as a new list of the same entry
     * objects in their original order. A peer must treat a request carrying them as malformed, so a header a user
     * copied from HTTP/1.1 code would otherwise fail the whole stream.
     */
    public static <E extends Map.Entry<? extends CharSequence, ? extends CharSequence>> List<E> stripForH2(
            Iterable<E> headers) {
        Set<String> nominated = connectionOptions(headers);
        List<E> kept = new ArrayList<>();
        for (E e : headers) {
            if (!dropForH2(e, nominated)) {
                kept.add(e);
            }
        }
        return kept;
    }

    /**
     * {@link #stripForH2(Iterable)} for a multi-valued map (such as {@code Headers.asMap()}): a new insertion-ordered
     * map without the names HTTP/2 forbids; a {@code te} entry keeps only its {@code trailers} values.
     */
    public static Map<String, List<String>> stripForH2(Map<String, ? extends List<String>> headers) {
        List<Map.Entry<String, String>> flat = new ArrayList<>();
        headers.forEach((name, values) -> values.forEach(v -> flat.add(Map.entry(name, v))));
        Map<String, List<String>> kept = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : stripForH2(flat)) {
            kept.computeIfAbsent(e.getKey(), k -> new ArrayList<>(1)).add(e.getValue());
        }
        return kept;
    }

    private static boolean dropForH2(Map.Entry<? extends CharSequence, ? extends CharSequence> e, Set<String> nominated) {
        return isH2ConnectionSpecific(e.getKey(), e.getValue())
                || nominated.contains(e.getKey().toString().toLowerCase(Locale.ROOT));
    }

    /** The lower-case header names listed in any {@code Connection} header. */
    private static Set<String> connectionOptions(
            Iterable<? extends Map.Entry<? extends CharSequence, ? extends CharSequence>> headers) {
        Set<String> options = null;
        for (Map.Entry<? extends CharSequence, ? extends CharSequence> e : headers) {
            if (e.getValue() != null && e.getKey().toString().equalsIgnoreCase("connection")) {
                for (String token : e.getValue().toString().split(",")) {
                    String option = token.trim().toLowerCase(Locale.ROOT);
                    if (!option.isEmpty()) {
                        if (options == null) {
                            options = new HashSet<>();
                        }
                        options.add(option);
                    }
                }
            }
        }
        return options == null ? Set.of() : options;
    }

    /** The index of the first character that is not an RFC 9110 tchar, or -1. */
    private static int firstNonToken(CharSequence s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c >= 128 || !TCHAR[c]) {
                return i;
            }
        }
        return -1;
    }

    private static String nameForMessage(CharSequence name) {
        return name != null && name.length() > 0 && firstNonToken(name) < 0 ? "\"" + name + "\"" : "(invalid name)";
    }

    /** A character for a message: its name for the dangerous ones, the character itself otherwise, with its code. */
    private static String describe(char c) {
        String code = String.format(Locale.ROOT, "0x%02X", (int) c);
        switch (c) {
            case '\r':
                return "CR, " + code;
            case '\n':
                return "LF, " + code;
            case 0:
                return "NUL, " + code;
            case ' ':
                return "SP, " + code;
            case '\t':
                return "HTAB, " + code;
            default:
                return c < 0x20 || c == 0x7F ? "control character " + code : "'" + c + "', " + code;
        }
    }

    /** A short, printable rendering of a non-secret string (a method, a scheme) for a message. */
    private static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length() && i < 32; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7F) {
                sb.append(String.format(Locale.ROOT, "\\x%02X", (int) c));
            } else {
                sb.append(c);
            }
        }
        return s.length() > 32 ? sb.append("...").toString() : sb.toString();
    }
}
